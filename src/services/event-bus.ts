import { Context, Schema, type Effect, type Scope } from "effect"
import type { TopicSpec } from "../domain/topics.ts"

export class EventBusUnavailable extends Schema.TaggedError<EventBusUnavailable>()("EventBusUnavailable", {
  reason: Schema.String,
}) {}

/** A fenced publisher's publish refused: a newer publisher of the same name was opened since. */
export class PublisherFenced extends Schema.TaggedError<PublisherFenced>()("PublisherFenced", {
  name: Schema.String,
}) {}

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

export interface LagReading { readonly group: string; readonly topic: string }

export interface TopicMessage extends OutgoingMessage {
  readonly topic: string
}

/**
 * Publishes for ONE writer of a name at a time. Opening one fences every earlier publisher of
 * that name, in any process: from then on their publishes fail with PublisherFenced, and none of
 * theirs lands after the first of the new one. What a writer read before it opened its publisher
 * can therefore never be published after what a newer writer published (Kafka: a transactional
 * producer whose transactional id is the name; the embedded log: an epoch per name, checked in
 * the publishing transaction).
 */
export interface FencedPublisher {
  /**
   * All of `messages` become visible together, or none (one transaction); per topic in the order
   * given. After a failure the publisher is spent (its outcome may be unknown): open a new one,
   * and read again what to publish after opening it.
   */
  readonly publish: (messages: ReadonlyArray<TopicMessage>) => Effect.Effect<void, EventBusUnavailable | PublisherFenced>
}

/** Messages of one key, in offset order; never empty. */
export type KeyBatch = readonly [BusMessage, ...ReadonlyArray<BusMessage>]

export interface Subscription<E> {
  /** Consumer group: members share partitions; each group sees every message. */
  readonly group: string
  readonly topics: ReadonlyArray<string>
  /** Where a group with no committed offset starts. */
  readonly fromBeginning: boolean
  /**
   * Called with messages of ONE key, in offset order: one message, or (with `batchPerKey`) every
   * message of that key that queued up while the key was busy. Messages of one key are never
   * handled concurrently or out of order. A partition's offset is committed only up to its lowest
   * unfinished message, so a crash redelivers everything not yet finished (at-least-once). On
   * failure the same messages are retried (with backoff) and nothing after them OF THAT KEY is
   * delivered, so a handler must send poison messages to the DLQ itself and succeed.
   */
  readonly handle: (messages: KeyBatch) => Effect.Effect<void, E>
  /**
   * Keys handled at the same time across the member's partitions (default 1: one key at a time,
   * which is also one message at a time). A slow key holds only its own slot and its own
   * partition's commit point, never the other keys.
   */
  readonly concurrency?: number
  /** Hand every queued message of a key over at once (default false: one message per call). */
  readonly batchPerKey?: boolean
}

/**
 * Per-key ordered, at-least-once messaging with consumer groups and explicit commits
 * (Kafka in production, a Postgres-backed log in the embedded default).
 */
export class EventBus extends Context.Service<EventBus, {
  readonly ensureTopics: (specs: ReadonlyArray<TopicSpec>) => Effect.Effect<void, EventBusUnavailable>
  /** Resolves once every message is durable on the bus (acks = all); same key, same partition. */
  readonly publish: (topic: string, messages: ReadonlyArray<OutgoingMessage>) => Effect.Effect<void, EventBusUnavailable>
  /** Opens the one publisher of `name` (fencing every earlier one), until the scope closes. */
  readonly fencedPublisher: (name: string) => Effect.Effect<FencedPublisher, EventBusUnavailable, Scope.Scope>
  /** Joins the group and delivers messages in the background until the scope closes. */
  readonly subscribe: <E>(subscription: Subscription<E>) => Effect.Effect<void, EventBusUnavailable, Scope.Scope>
  /**
   * Every message in the topic from its beginning up to its end at the time of the call, per
   * partition in offset order, committing nothing (how a daemon rebuilds what is desired from the
   * compacted topic after a restart). `group` is the caller's consumer group: where the bus needs
   * a group of its own to read (Kafka), it is named after this one, so the caller needs no
   * rights beyond its own group's.
   */
  readonly readAll: (topic: string, group: string) => Effect.Effect<ReadonlyArray<BusMessage>, EventBusUnavailable>
  /** Messages not yet committed by a group, summed over partitions (for metrics and tests). */
  readonly lag: (group: string, topic: string) => Effect.Effect<number, EventBusUnavailable>
  /**
   * The lag of each (group, topic), in the order asked, read in one pass: each topic's ends and
   * each group's commits are fetched once however many pairs name them (a metrics scrape asks
   * for every daemon's group on the same topics).
   */
  readonly lags: (readings: ReadonlyArray<LagReading>) => Effect.Effect<ReadonlyArray<number>, EventBusUnavailable>
}>()("fabric/EventBus") {}
