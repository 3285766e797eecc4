// kafkajs failures become EventBusUnavailable with a reason a person can act on; the caller
// decides whether to retry.
import { Effect } from "effect"
import { EventBusUnavailable } from "../../src/services/event-bus.ts"

/** "KafkaJSNumberOfRetriesExceeded: ... <- KafkaJSConnectionError: Connection error: ECONNREFUSED". */
export const describeKafkaError = (error: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = error
  while (current !== undefined && current !== null && parts.length < 4) {
    if (current instanceof Error) {
      parts.push(`${current.name}: ${current.message}`)
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
