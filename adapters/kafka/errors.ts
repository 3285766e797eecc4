// kafkajs failures become EventBusUnavailable with a reason a person can act on; the caller
// decides whether to retry.
import { Effect } from "effect"
import { EventBusUnavailable } from "../../src/services/event-bus.ts"

/**
 * "KafkaJSNumberOfRetriesExceeded: ... <- KafkaJSConnectionError [ECONNREFUSED]: Connection error: ...".
 * The bracket holds the broker's error name (TOPIC_AUTHORIZATION_FAILED, ...) or the socket's
 * code (SELF_SIGNED_CERT_IN_CHAIN, ...): the part that says what to fix.
 */
export const describeKafkaError = (error: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = error
  while (current !== undefined && current !== null && parts.length < 4) {
    if (current instanceof Error) {
      const { type, code, errors } = current as { type?: unknown; code?: unknown; errors?: unknown }
      // KafkaJSAggregateError (createTopics): the per-topic errors' names
      const inner = Array.isArray(errors) ? [...new Set(errors.map((e: { type?: unknown }) => e?.type).filter((t) => typeof t === "string"))].join(",") : ""
      const tag = typeof type === "string" ? type : typeof code === "string" ? code : inner !== "" ? inner : undefined
      parts.push(`${current.name}${tag === undefined ? "" : ` [${tag}]`}: ${current.message}`)
      current = (current as { cause?: unknown }).cause
    } else {
      parts.push(String(current))
      current = undefined
    }
  }
  return parts.join(" <- ")
}

export const unavailable = (action: string) => (error: unknown): EventBusUnavailable =>
  new EventBusUnavailable({ reason: `${action}: ${describeKafkaError(error)}` })

/** Runs one kafkajs call; its rejection becomes EventBusUnavailable naming the action. */
export const tryKafka = <A>(action: string, run: () => Promise<A>): Effect.Effect<A, EventBusUnavailable> =>
  Effect.tryPromise({ try: run, catch: unavailable(action) })
