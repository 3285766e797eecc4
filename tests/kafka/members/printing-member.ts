// A group member in a process of its own (so a test can SIGSTOP it): subscribes GROUP to TOPIC
// with a short session and prints each message it handles as `handled <value>`.
import { Effect, Layer } from "effect"
import { layer, makeKafkaConfig, parseBrokers } from "../../../adapters/kafka/event-bus.ts"
import { EventBus } from "../../../src/services/event-bus.ts"

const { KAFKA_BROKERS = "", TOPIC = "", GROUP = "" } = process.env
const config = makeKafkaConfig({
  brokers: parseBrokers(KAFKA_BROKERS), clientId: "fabric-printing-member",
  heartbeatIntervalMs: 500, sessionTimeoutMs: 6_000, maxWaitTimeMs: 250, joinTimeoutMs: 30_000,
})

const member = Effect.gen(function* () {
  const bus = yield* EventBus
  yield* bus.subscribe({
    group: GROUP, topics: [TOPIC], fromBeginning: true,
    handle: (batch) => Effect.sync(() => { for (const m of batch) process.stdout.write(`handled ${m.value}\n`) }),
  })
  process.stdout.write("joined\n")
  yield* Effect.never
}).pipe(Effect.scoped, Effect.provide(layer(config) as Layer.Layer<EventBus>))

Effect.runFork(member)
process.on("SIGTERM", () => process.exit(0))
