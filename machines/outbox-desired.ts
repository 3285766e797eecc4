import { Effect } from "effect"
import { encodeJson } from "../src/domain/messages.ts"
import { Outbox } from "../src/services/outbox.ts"
import { RequestId, requestIdHeader } from "../src/services/request-id.ts"
import { traceHeaders } from "../src/services/trace-context.ts"

/**
 * An outbox row of desired state (JSON) for the machines' steps, with the request id and trace
 * context of the call that decided it, so the daemons' work on it joins that request's logs and trace.
 */
export const enqueueDesired = (topic: string, key: string, value: unknown) =>
  Effect.gen(function* () {
    const requestId = yield* RequestId
    yield* (yield* Outbox).enqueue([{
      topic, key, value: encodeJson(value),
      headers: { "content-type": "application/json", ...(requestId ? { [requestIdHeader]: requestId } : {}), ...(yield* traceHeaders) },
    }])
  })
