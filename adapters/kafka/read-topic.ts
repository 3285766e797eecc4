// EventBus.readAll on Kafka: a throw-away consumer group (never committed, deleted afterwards)
// reads each partition from its low watermark to the high watermark taken at the start. The group
// is named after the caller's own (`<group>.read-all.<uuid>`): kafkajs has no group-less reads,
// and so an ACL on the prefix `<group>.` is all a Kafka user needs for it.
// A partition is done when a fetched batch reaches that end, not when a message does: the last
// offsets may be transaction markers (a fenced publisher's commits), which are never delivered.
import { Effect } from "effect"
import type { Admin, Kafka } from "kafkajs"
import { EventBusUnavailable, type BusMessage } from "../../src/services/event-bus.ts"
import type { KafkaConfig } from "./config.ts"
import { tryKafka } from "./errors.ts"
import { toBusMessage } from "./records.ts"

export const readTopic = (kafka: Kafka, admin: Admin, config: KafkaConfig, topic: string, group: string) =>
  Effect.gen(function* () {
    const ends = yield* tryKafka(`read the ends of ${topic}`, () => admin.fetchTopicOffsets(topic))
    // partition -> last offset to read (high watermark - 1); empty partitions are done already
    const remaining = new Map(ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high) - 1n]))
    if (remaining.size === 0) return [] as ReadonlyArray<BusMessage>
    const groupId = `${group}.read-all.${crypto.randomUUID()}`
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: config.maxWaitTimeMs, allowAutoTopicCreation: false })
    const messages: BusMessage[] = []
    const read = async () => {
      await consumer.connect()
      try {
        await consumer.subscribe({ topic, fromBeginning: true })
        const done = Promise.withResolvers<void>()
        // Emitted after a batch's messages were handled, and for a batch of markers only, whose
        // messages nobody sees: lastOffset counts the markers too.
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          const last = remaining.get(payload.partition)
          if (last !== undefined && BigInt(payload.lastOffset) >= last) remaining.delete(payload.partition)
          if (remaining.size === 0) done.resolve()
        })
        await consumer.run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const last = remaining.get(partition)
            if (last !== undefined && BigInt(message.offset) <= last) messages.push(toBusMessage(topic, partition, message))
          },
        })
        const timer = setTimeout(() => done.reject(new Error(`not at the end after ${config.joinTimeoutMs} ms`)), config.joinTimeoutMs)
        try {
          await done.promise
        } finally {
          clearTimeout(timer)
        }
      } finally {
        await consumer.disconnect().catch(() => {})
        await admin.deleteGroups([groupId]).catch(() => {})
      }
      // partitions were consumed concurrently: restore per-partition offset order
      return messages.sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1))
    }
    return yield* tryKafka(`read ${topic} from the beginning`, read)
  }).pipe(Effect.mapError((e) => (e instanceof EventBusUnavailable ? e : new EventBusUnavailable({ reason: String(e) }))))
