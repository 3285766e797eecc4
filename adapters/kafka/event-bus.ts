// The live EventBus on Kafka (kafkajs 2.2.4). One shared idempotent producer and one admin client
// per layer, disconnected when the layer's scope closes; one consumer per subscription
// (subscription.ts); one transactional producer per fenced publisher (fenced-publisher.ts).
import { Effect, Layer } from "effect"
import { EventBus, type LagReading, type OutgoingMessage, type Subscription } from "../../src/services/event-bus.ts"
import type { TopicSpec } from "../../src/domain/topics.ts"
import { connected, makeKafkaClient, producerOptions } from "./client.ts"
import type { KafkaConfig } from "./config.ts"
import { tryKafka, unavailable } from "./errors.ts"
import { openFencedPublisher } from "./fenced-publisher.ts"
import { readLags } from "./lag.ts"
import { toKafkaMessage } from "./records.ts"
import { readTopic } from "./read-topic.ts"
import { runSubscription } from "./subscription.ts"

export type { KafkaConfig } from "./config.ts"
export { makeKafkaConfig, parseBrokers } from "./config.ts"

export const layer = (config: KafkaConfig) =>
  Layer.effect(
    EventBus,
    Effect.gen(function* () {
      const context = yield* Effect.context<never>()
      const kafka = makeKafkaClient(config, context)
      const admin = yield* connected("admin", kafka.admin())
      const producer = yield* connected("producer", kafka.producer(producerOptions(config)))

      const ensureTopics = Effect.fn("EventBus.ensureTopics")(function* (specs: ReadonlyArray<TopicSpec>) {
        // Only the missing ones: a Kafka user without CREATE (a daemon's) is refused a create
        // even for topics that exist, and sees (lists) only the topics it may describe.
        const existing = new Set(yield* tryKafka("list topics", () => admin.listTopics()))
        const missing = specs.filter((spec) => !existing.has(spec.name))
        if (missing.length === 0) return
        // resolves false when another process created them meanwhile; existing topics are left as they are
        yield* tryKafka(`create topics ${missing.map((s) => s.name).join(",")}`, () =>
          admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((spec) => ({
              topic: spec.name,
              numPartitions: spec.partitions,
              replicationFactor: config.replicationFactor,
              configEntries: spec.compacted ? [{ name: "cleanup.policy", value: "compact" }] : [],
            })),
          }),
        )
      })

      const publish = Effect.fn("EventBus.publish")(function* (topic: string, messages: ReadonlyArray<OutgoingMessage>) {
        if (messages.length === 0) return
        // acks -1: resolves only when every in-sync replica has the messages
        yield* tryKafka(`publish ${messages.length} message(s) to ${topic}`, () =>
          producer.send({ topic, acks: -1, messages: messages.map(toKafkaMessage) }),
        )
      })

      const subscribe = Effect.fn("EventBus.subscribe")(function* <E>(subscription: Subscription<E>) {
        yield* runSubscription(kafka, admin, config, context, subscription)
      })

      const lags = Effect.fn("EventBus.lags")(function* (readings: ReadonlyArray<LagReading>) {
        const read = yield* Effect.promise(() => readLags(admin, readings))
        if ("failed" in read) return yield* unavailable(read.failed)(read.error)
        return read.lags
      })
      const lag = (group: string, topic: string) => lags([{ group, topic }]).pipe(Effect.map(([lag]) => lag ?? 0))

      const readAll = Effect.fn("EventBus.readAll")(function* (topic: string, group: string) {
        return yield* readTopic(kafka, admin, config, topic, group)
      })

      const fencedPublisher = Effect.fn("EventBus.fencedPublisher")(function* (name: string) {
        return yield* openFencedPublisher(kafka, config, name)
      })

      return EventBus.of({ ensureTopics, publish, fencedPublisher, subscribe, lag, lags, readAll })
    }),
  )
