import { Context } from "effect"

/**
 * The id of the RPC call being served: carried into outbox headers, Kafka headers and the
 * daemon's logs, so one id finds the whole path of a change.
 */
export const RequestId = Context.Reference<string | undefined>("fabric/RequestId", { defaultValue: () => undefined })

export const requestIdHeader = "fabric-request-id"
