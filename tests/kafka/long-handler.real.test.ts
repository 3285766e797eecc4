// Kafka-only behaviour of the EventBus layer that the contract cannot express: a handler that runs
// longer than the group's session timeout keeps its partition (the layer heartbeats while it
// works), so its message is handled once, not redelivered after the member is thrown out.
import { Effect, Layer } from "effect"
import { deleteKafkaRun } from "../support/kafka-cleanup.ts"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { layer, makeKafkaConfig, parseBrokers } from "../../adapters/kafka/event-bus.ts"
import { EventBus, type KeyBatch } from "../../src/services/event-bus.ts"

const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? "")
const prefix = `kafka-long-${Date.now().toString(36)}-${process.pid}`

// 6 s is the broker's smallest allowed session timeout (group.min.session.timeout.ms)
const sessionTimeoutMs = 6_000
const config = makeKafkaConfig({ brokers, clientId: "fabric-long-handler", sessionTimeoutMs, heartbeatIntervalMs: 500, maxWaitTimeMs: 250 })
const kafkaLayer = () =>
  brokers.length === 0
    ? Layer.effect(EventBus, Effect.fail(new Error('KAFKA_BROKERS is not set: start the engines with `npm run infra:up`, then `eval "$(npm run -s infra:env)"`')))
    : layer(config)

test("a handler working longer than the session timeout keeps its partition: its message is handled once", () =>
  Effect.runPromise(
    Effect.gen(function* () {
      const bus = yield* EventBus
      const topic = `${prefix}-topic`
      const group = `${prefix}-group`
      yield* bus.ensureTopics([{ name: topic, partitions: 1, compacted: false }])
      yield* bus.publish(topic, [{ key: "project-x", value: "slow" }, { key: "project-x", value: "next" }])
      const started: Array<string | null> = []
      const handled: Array<string | null> = []
      yield* bus.subscribe({
        group,
        topics: [topic],
        fromBeginning: true,
        handle: ([message]: KeyBatch) =>
          Effect.sync(() => void started.push(message.value)).pipe(
            Effect.andThen(Effect.sleep(message.value === "slow" ? sessionTimeoutMs + 3_000 : 0)),
            Effect.andThen(Effect.sync(() => void handled.push(message.value))),
          ),
      })
      const deadline = Date.now() + 60_000
      while (!handled.includes("next") && Date.now() < deadline) yield* Effect.sleep(50)
      // a member thrown out mid-handler fails its commit, rejoins and gets "slow" again
      yield* Effect.sleep(1_000)
      assert.equal(started, ["slow", "next"])
      assert.equal(handled, ["slow", "next"])
      assert.is(yield* bus.lag(group, topic), 0)
    }).pipe(Effect.scoped, Effect.provide(kafkaLayer())),
  ))

test.after(() => deleteKafkaRun(brokers, prefix))

test.run()
