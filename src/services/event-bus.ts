import { Context, Schema, type Effect, type Scope } from "effect"

export class EventBusUnavailable extends Schema.TaggedError<EventBusUnavailable>()("EventBusUnavailable", {
  reason: Schema.String,
}) {}

export interface TopicSpec {
  readonly name: string
  readonly partitions: number
  /** Keep only the newest message per key (Kafka log compaction). */
  readonly compacted: boolean
}

export interface OutgoingMessage {
  readonly key: string
  /** null is a tombstone: on a compacted topic it removes the key. */
  readonly value: string | null
  readonly headers?: Readonly<Record<string, string>>
}

export interface BusMessage {
  readonly topic: string
  readonly partition: number
  /** Decimal string, as Kafka offsets exceed 2^53 in principle. */
  readonly offset: string
  readonly key: string | null
  readonly value: string | null
  readonly headers: Readonly<Record<string, string>>
}

export interface Subscription<E> {
  /** Consumer group: members share partitions; each group sees every message. */
  readonly group: string
  readonly topics: ReadonlyArray<string>
  /** Where a group with no committed offset starts. */
  readonly fromBeginning: boolean
  /**
   * Called once per message, in order within a partition. Its offset is committed only after it
   * succeeds; on failure the same message is retried (with backoff) and nothing after it in that
   * partition is delivered, so a handler must send poison messages to the DLQ itself and succeed.
   */
  readonly handle: (message: BusMessage) => Effect.Effect<void, E>
}

/**
 * Per-key ordered, at-least-once messaging with consumer groups and explicit commits
 * (Kafka in production, a Postgres-backed log in the embedded default).
 */
export class EventBus extends Context.Service<EventBus, {
  readonly ensureTopics: (specs: ReadonlyArray<TopicSpec>) => Effect.Effect<void, EventBusUnavailable>
  /** Resolves once every message is durable on the bus (acks = all); same key, same partition. */
  readonly publish: (topic: string, messages: ReadonlyArray<OutgoingMessage>) => Effect.Effect<void, EventBusUnavailable>
  /** Joins the group and delivers messages in the background until the scope closes. */
  readonly subscribe: <E>(subscription: Subscription<E>) => Effect.Effect<void, EventBusUnavailable, Scope.Scope>
  /**
   * Every message in the topic from its beginning up to its end at the time of the call, per
   * partition in offset order, committing nothing (how a daemon rebuilds what is desired from the
   * compacted topic after a restart).
   */
  readonly readAll: (topic: string) => Effect.Effect<ReadonlyArray<BusMessage>, EventBusUnavailable>
  /** Messages not yet committed by a group, summed over partitions (for metrics and tests). */
  readonly lag: (group: string, topic: string) => Effect.Effect<number, EventBusUnavailable>
}>()("fabric/EventBus") {}
