// Kafka-only behaviour of a rebalance: a member that loses a partition drops what it had queued
// for it (the new owner reads it from the committed offset) and never commits for it again, so
// every message is handled, the lost partition's queue is not handled twice, and the group ends
// with nothing left to commit.
import { Deferred, Effect, Layer } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { layer, makeKafkaConfig, parseBrokers } from "../../adapters/kafka/event-bus.ts"
import { EventBus, type BusMessage, type KeyBatch } from "../../src/services/event-bus.ts"
import { deleteKafkaRun } from "../support/kafka-cleanup.ts"

const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? "")
const prefix = `kafka-rebalance-${Date.now().toString(36)}-${process.pid}`
const config = makeKafkaConfig({ brokers, clientId: "fabric-rebalance", heartbeatIntervalMs: 500, sessionTimeoutMs: 10_000, maxWaitTimeMs: 250, joinTimeoutMs: 30_000 })
const kafkaLayer = () =>
  brokers.length === 0
    ? Layer.effect(EventBus, Effect.fail(new Error('KAFKA_BROKERS is not set: start the engines with `npm run infra:up`, then `eval "$(npm run -s infra:env)"`')))
    : layer(config)

const waitFor = (what: string, check: () => boolean, seen: () => unknown) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 60_000
    while (!check()) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`waited for ${what}; seen: ${JSON.stringify(seen())}`))
      yield* Effect.sleep(50)
    }
  })

test("a member losing a partition drops its queue for it and commits nothing more for it; every message is handled", () =>
  Effect.runPromise(
    Effect.gen(function* () {
      const bus = yield* EventBus
      const topic = `${prefix}-topic`
      const group = `${prefix}-group`
      yield* bus.ensureTopics([{ name: topic, partitions: 2, compacted: false }])
      const sent = Array.from({ length: 40 }, (_, i) => ({ key: `project-${i}`, value: `m${i}` }))
      yield* bus.publish(topic, sent)

      // the first member takes both partitions, and its one slot sticks on the first message
      const gate = yield* Deferred.make<void>()
      const byFirst: Array<BusMessage> = []
      let stuck: BusMessage | undefined
      yield* bus.subscribe({
        group,
        topics: [topic],
        fromBeginning: true,
        handle: ([message]: KeyBatch) =>
          Effect.gen(function* () {
            if (stuck === undefined) {
              stuck = message
              yield* Deferred.await(gate)
            }
            byFirst.push(message)
          }),
      })
      yield* waitFor("the first member stuck", () => stuck !== undefined, () => byFirst)

      // the second member joins: each gets one partition; the first one's queue for the partition
      // it lost is dropped, and the second one reads that partition from the committed offset
      const bySecond: Array<BusMessage> = []
      yield* bus.subscribe({ group, topics: [topic], fromBeginning: true, handle: (batch) => Effect.sync(() => void bySecond.push(...batch)) })
      yield* waitFor("the second member working", () => bySecond.length > 0, () => bySecond)
      const lost = bySecond[0]!.partition
      yield* Deferred.succeed(gate, undefined)

      const handled = () => new Set([...byFirst, ...bySecond].map((m) => m.value))
      yield* waitFor("every message handled", () => handled().size === sent.length, () => [...handled()])
      // a commit of the lost partition by its former holder would move it back: lag would stay above 0
      let lag = -1
      const deadline = Date.now() + 60_000
      while ((lag = yield* bus.lag(group, topic)) !== 0 && Date.now() < deadline) yield* Effect.sleep(100)
      assert.is(lag, 0, "the group has committed everything")
      const firstOnLost = byFirst.filter((m) => m.partition === lost && m !== stuck)
      assert.equal(firstOnLost.map((m) => m.value), [], "nothing queued for the lost partition was handled by the member that lost it")
      assert.ok(bySecond.every((m) => m.partition === lost), "the new member holds one partition")
    }).pipe(Effect.scoped, Effect.provide(kafkaLayer())),
  ))

test.after(() => deleteKafkaRun(brokers, prefix))

test.run()
