// EventBus.fencedPublisher on Kafka: a transactional producer whose transactional id is the
// publisher's name. Opening it (InitProducerId) bumps that id's epoch at the transaction
// coordinator, which aborts whatever an earlier producer of the id left open and refuses every
// later request of the earlier one (INVALID_PRODUCER_EPOCH): a writer that lost its turn cannot
// add a message after the new one's. Each publish is one transaction; consumers read committed
// (kafkajs's default), so an aborted one is never delivered.
import { Effect } from "effect"
import type { Kafka } from "kafkajs"
import { EventBusUnavailable, PublisherFenced, type FencedPublisher, type TopicMessage } from "../../src/services/event-bus.ts"
import { connected, producerOptions } from "./client.ts"
import type { KafkaConfig } from "./config.ts"
import { tryKafka, unavailable } from "./errors.ts"
import { toKafkaMessage } from "./records.ts"

/** The broker's answers to a producer whose epoch was bumped by a newer one (kafkajs names them by type). */
const fencedTypes = new Set(["INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED"])

const isFenced = (error: unknown): boolean => {
  for (let current = error; current instanceof Error; current = (current as { cause?: unknown }).cause) {
    if (fencedTypes.has((current as { type?: string }).type ?? "")) return true
  }
  return false
}

export const openFencedPublisher = (kafka: Kafka, config: KafkaConfig, name: string) =>
  Effect.gen(function* () {
    const producer = yield* connected(`transactional producer ${name}`, kafka.producer({ ...producerOptions(config), transactionalId: name }))
    // kafkajs would send InitProducerId at the first publish; the fence must stand before the
    // caller reads what to publish, so it goes now (an empty transaction sends nothing else).
    yield* tryKafka(`fence earlier publishers of ${name}`, async () => {
      const transaction = await producer.transaction()
      await transaction.abort()
    })
    let spent = false

    const publish = Effect.fn("FencedPublisher.publish")(function* (messages: ReadonlyArray<TopicMessage>) {
      if (spent) return yield* new EventBusUnavailable({ reason: `publisher ${name} failed before; open a new one` })
      if (messages.length === 0) return
      yield* Effect.tryPromise({
        try: async () => {
          const transaction = await producer.transaction()
          try {
            // acks -1: every in-sync replica has the messages before the commit
            await transaction.sendBatch({ acks: -1, topicMessages: [...Map.groupBy(messages, (m) => m.topic)].map(([topic, list]) => ({ topic, messages: list.map(toKafkaMessage) })) })
            await transaction.commit()
          } catch (error) {
            await transaction.abort().catch(() => {})
            throw error
          }
        },
        catch: (error) => isFenced(error) ? new PublisherFenced({ name }) : unavailable(`publish ${messages.length} message(s) as ${name}`)(error),
      }).pipe(Effect.tapError(() => Effect.sync(() => { spent = true })))
    })

    return { publish } satisfies FencedPublisher
  })
