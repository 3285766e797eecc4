import { Context, Effect } from "effect"

/**
 * The id of the RPC call being served: carried into outbox headers, Kafka headers and the
 * daemon's logs, so one id finds the whole path of a change.
 */
export const RequestId = Context.Reference<string | undefined>("fabric/RequestId", { defaultValue: () => undefined })

export const requestIdHeader = "fabric-request-id"

/** The log field under which every line written for a request carries its id. */
const requestIdLogField = "requestId"

/** Annotates every log line of `effect` (and of what it calls) with the request id, when there is one. */
export const withRequestId = (requestId: string | undefined) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  requestId === undefined || requestId === "" ? effect : Effect.annotateLogs(effect, requestIdLogField, requestId)
