// Consumes the daemons' observations (fabric.status) in the management group and applies each
// to its project's actor. Undecodable messages go to the DLQ with the reason, never blocking.
import { Effect, Schema } from "effect"
import { NamespaceObservation, topics } from "../domain/messages.ts"
import { crashPoint } from "../services/crash-points.ts"
import { EventBus, type BusMessage } from "../services/event-bus.ts"
import { requestIdHeader, withRequestId } from "../services/request-id.ts"
import { sendToDeadLetters } from "./dead-letters.ts"
import { Management } from "./management.ts"

export const managementGroup = "fabric.management"

const decodeObservation = Schema.decodeUnknownExit(Schema.fromJsonString(NamespaceObservation))

export const handleStatusMessage = (message: BusMessage) =>
  Effect.gen(function* () {
    const decoded = decodeObservation(message.value ?? "")
    if (decoded._tag === "Failure") return yield* sendToDeadLetters(message, `undecodable observation: ${String(decoded.cause)}`)
    yield* (yield* Management).recordObservation(decoded.value)
    yield* crashPoint("management.after-observation")
  }).pipe(withRequestId(message.headers[requestIdHeader]))

export const subscribeStatus = Effect.gen(function* () {
  const bus = yield* EventBus
  const context = yield* Effect.context<Management | EventBus>()
  yield* bus.subscribe({
    group: managementGroup,
    topics: [topics.status],
    fromBeginning: true,
    handle: ([message]) => handleStatusMessage(message).pipe(Effect.provideContext(context)),
  })
})
