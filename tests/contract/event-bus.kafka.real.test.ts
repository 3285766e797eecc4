// The EventBus contract against a real Kafka broker (the one from `npm run infra:up`), plus what
// only Kafka can show: the topic configuration ensureTopics leaves on the broker.
import { Effect, Layer } from "effect"
import { Kafka, logLevel } from "kafkajs"
import { deleteKafkaRun } from "../support/kafka-cleanup.ts"
import * as assert from "uvu/assert"
import { layer, makeKafkaConfig, parseBrokers } from "../../adapters/kafka/event-bus.ts"
import { EventBus } from "../../src/services/event-bus.ts"
import { eventBusContract } from "./event-bus.ts"

const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? "")
const namePrefix = `contract-${Date.now().toString(36)}-${process.pid}`

// short heartbeats and fetch waits: joins, rebalances and stops take a fraction of a second
const config = makeKafkaConfig({
  brokers,
  clientId: "fabric-contract",
  heartbeatIntervalMs: 500,
  sessionTimeoutMs: 10_000,
  maxWaitTimeMs: 250,
  handlerRetryInitialMs: 100,
  joinTimeoutMs: 30_000,
})

// Without a broker every case fails with the way to get one; a real test never skips.
const kafkaLayer = () =>
  brokers.length === 0
    ? Layer.effect(EventBus, Effect.fail(new Error('KAFKA_BROKERS is not set: start the engines with `npm run infra:up`, then `eval "$(npm run -s infra:env)"`')))
    : layer(config)

const contract = eventBusContract("kafka", kafkaLayer, { namePrefix })

contract("ensureTopics creates a compacted topic with cleanup.policy=compact and the partitions asked for", () =>
  Effect.runPromise(
    Effect.gen(function* () {
      const bus = yield* EventBus
      const topic = `${namePrefix}-policy`
      yield* bus.ensureTopics([{ name: topic, partitions: 3, compacted: true }])
      const admin = new Kafka({ clientId: "fabric-contract-check", brokers: [...brokers], logLevel: logLevel.NOTHING }).admin()
      yield* Effect.promise(() => admin.connect())
      const described = yield* Effect.promise(() =>
        admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ["cleanup.policy"] }] }),
      )
      const metadata = yield* Effect.promise(() => admin.fetchTopicMetadata({ topics: [topic] }))
      yield* Effect.promise(() => admin.disconnect())
      assert.is(described.resources[0]?.configEntries[0]?.configValue, "compact")
      assert.is(metadata.topics[0]?.partitions.length, 3)
    }).pipe(Effect.scoped, Effect.provide(kafkaLayer())),
  ))

// Leave the broker as we found it: this run's topics and groups go away.
contract.after(() => deleteKafkaRun(brokers, namePrefix))

contract.run()
