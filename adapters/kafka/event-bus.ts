// The live EventBus on Kafka (kafkajs 2.2.4). One shared idempotent producer and one admin client
// per layer, disconnected when the layer's scope closes; one consumer per subscription
// (subscription.ts); one transactional producer per fenced publisher (fenced-publisher.ts).
import { Effect, Layer } from "effect"
import { EventBus, type OutgoingMessage, type Subscription } from "../../src/services/event-bus.ts"
import type { TopicSpec } from "../../src/domain/topics.ts"
import { connected, makeKafkaClient, producerOptions } from "./client.ts"
import type { KafkaConfig } from "./config.ts"
import { tryKafka } from "./errors.ts"
import { openFencedPublisher } from "./fenced-publisher.ts"
import { uncommittedMessages } from "./lag.ts"
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
        if (specs.length === 0) return
        // resolves false when every topic already exists; existing topics are left as they are
        yield* tryKafka(`create topics ${specs.map((s) => s.name).join(",")}`, () =>
          admin.createTopics({
            waitForLeaders: true,
            topics: specs.map((spec) => ({
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

      const lag = Effect.fn("EventBus.lag")(function* (group: string, topic: string) {
        const [committed, ends] = yield* tryKafka(`read lag of ${group} on ${topic}`, () =>
          Promise.all([admin.fetchOffsets({ groupId: group, topics: [topic] }), admin.fetchTopicOffsets(topic)]),
        )
        return uncommittedMessages(committed.find((t) => t.topic === topic)?.partitions ?? [], ends)
      })

      const readAll = Effect.fn("EventBus.readAll")(function* (topic: string) {
        return yield* readTopic(kafka, admin, config, topic)
      })

      const fencedPublisher = Effect.fn("EventBus.fencedPublisher")(function* (name: string) {
        return yield* openFencedPublisher(kafka, config, name)
      })

      return EventBus.of({ ensureTopics, publish, fencedPublisher, subscribe, lag, readAll })
    }),
  )
