// The embedded EventBus: a durable log in the embedded Postgres (schema `eventlog`) with Kafka's
// semantics where Fabric relies on them: partitions chosen by key hash (per-key order), consumer
// groups whose members split the partitions, offsets committed only up to the lowest message not
// yet handled, at-least-once redelivery after a crash, and compaction (older values of a key are
// dropped). It lives in the same database as the state, so it survives a restart of the embedded
// default.
//
// Cheap with many groups in one process (every simulated cluster's daemon has its own): reads
// are shared between groups (event-log-reader.ts), publishes from concurrent callers go in one
// transaction (event-log-publisher.ts), commits are kept in memory and written together
// (event-log-offsets.ts), and members are woken by this process's publishes. Other processes'
// messages (the log on a shared Postgres server) are noticed by a slow poll of the partitions'
// ends, one statement for all of them.
import { Effect, Layer } from "effect"
import { Database } from "../postgres/database.ts"
import { EventBus, EventBusUnavailable, type BusMessage, type FencedPublisher, type LagReading, type OutgoingMessage, type Subscription, type TopicMessage } from "../../src/services/event-bus.ts"
import type { TopicSpec } from "../../src/domain/topics.ts"
import { makeEventLogGroups } from "./event-log-groups.ts"
import { makeEventLogOffsets } from "./event-log-offsets.ts"
import { makeEventLogPublisher } from "./event-log-publisher.ts"
import { makeEventLogReader } from "./event-log-reader.ts"

const schema = /* sql */ `
create schema if not exists eventlog;
create table if not exists eventlog.partitions (
  topic text not null, partition integer not null, next_offset bigint not null default 0, compacted boolean not null,
  primary key (topic, partition));
create table if not exists eventlog.messages (
  topic text not null, partition integer not null, "offset" bigint not null, key text, value text,
  headers jsonb not null default '{}', primary key (topic, partition, "offset"));
create index if not exists messages_by_key on eventlog.messages (topic, partition, key);
create table if not exists eventlog.commits (
  group_id text not null, topic text not null, partition integer not null, next_offset bigint not null,
  primary key (group_id, topic, partition));
create table if not exists eventlog.fences (name text primary key, epoch bigint not null);
`

export interface EventLogOptions {
  /** How often members waiting at the end look for messages other processes wrote (this process's publishes wake them at once). */
  readonly pollIntervalMs?: number
  /** Offsets read at once per partition (and per database read, shared by every group). */
  readonly chunkSize?: number
  /** Messages kept in memory for the groups to share, at most. */
  readonly cacheSize?: number
  /** Messages of one subscription taken and not yet handled, at most. */
  readonly bufferSize?: number
  /** Backoff of a failing handler: doubles from initial to max. */
  readonly retryInitialMs?: number
  readonly retryMaxMs?: number
  /** On shutdown, how long handler calls in flight may take to finish before they are cut. */
  readonly drainMs?: number
}

export const layer = (options: EventLogOptions = {}) =>
  Layer.effect(
    EventBus,
    Effect.gen(function* () {
      const { pool } = yield* Database
      const pollIntervalMs = options.pollIntervalMs ?? 1_000
      const fail = (what: string) => (cause: unknown) => new EventBusUnavailable({ reason: `${what}: ${(cause as Error)?.message ?? cause}` })

      yield* Effect.tryPromise({ try: () => pool.unsafe(schema).simple(), catch: fail("create event log") })

      const reader = yield* makeEventLogReader(pool, { pollIntervalMs, chunkSize: options.chunkSize ?? 256, cacheSize: options.cacheSize ?? 50_000 }, fail)
      const offsets = yield* makeEventLogOffsets(pool, fail)
      const publisher = yield* makeEventLogPublisher(pool, reader.published, fail)
      const groups = yield* makeEventLogGroups(reader, offsets, {
        bufferSize: options.bufferSize ?? 256,
        retryInitialMs: options.retryInitialMs ?? 50,
        retryMaxMs: options.retryMaxMs ?? 5_000,
        readRetryMs: pollIntervalMs,
        drainMs: options.drainMs ?? 5_000,
      })

      const knownTopic = (topic: string) =>
        Effect.flatMap(reader.topic(topic), (info) =>
          info === undefined ? Effect.fail(new EventBusUnavailable({ reason: `unknown topic ${topic}` })) : Effect.succeed(info),
        )

      const ensureTopics = Effect.fn("EventBus.ensureTopics")(function* (specs: ReadonlyArray<TopicSpec>) {
        for (const spec of specs) {
          yield* Effect.tryPromise({
            try: () => pool`
              insert into eventlog.partitions ${pool(Array.from({ length: spec.partitions }, (_, partition) => ({ topic: spec.name, partition, compacted: spec.compacted })))}
              on conflict do nothing`,
            catch: fail("ensure topic"),
          })
          reader.forgetTopic(spec.name)
        }
      })

      const publish = Effect.fn("EventBus.publish")(function* (topic: string, messages: ReadonlyArray<OutgoingMessage>) {
        const info = yield* knownTopic(topic)
        yield* publisher.publish(topic, info, messages)
      })

      const fencedPublisher = Effect.fn("EventBus.fencedPublisher")(function* (name: string) {
        const fence = yield* publisher.openFence(name)
        // Spent after a failure, as on Kafka: the caller opens a new one and reads again.
        let spent = false
        const publish = Effect.fn("FencedPublisher.publish")(function* (messages: ReadonlyArray<TopicMessage>) {
          if (spent) return yield* new EventBusUnavailable({ reason: `publisher ${name} failed before; open a new one` })
          const batches = []
          for (const [topic, list] of Map.groupBy(messages, (m) => m.topic)) batches.push({ topic, info: yield* knownTopic(topic), messages: list })
          yield* publisher.publishFenced(fence, batches).pipe(Effect.tapError(() => Effect.sync(() => { spent = true })))
        })
        return { publish } satisfies FencedPublisher
      })

      const subscribe = <E>(sub: Subscription<E>) => groups.join(sub).pipe(Effect.withSpan("EventBus.subscribe", { attributes: { group: sub.group } }))

      const lag = Effect.fn("EventBus.lag")(function* (group: string, topic: string) {
        const rows = yield* Effect.tryPromise({
          try: () => pool<{ lag: string }[]>`
            select coalesce(sum(p.next_offset - coalesce(c.next_offset, 0)), 0)::text as lag
            from eventlog.partitions p
            left join eventlog.commits c on c.group_id = ${group} and c.topic = p.topic and c.partition = p.partition
            where p.topic = ${topic}`,
          catch: fail("lag"),
        })
        return Number(rows[0]?.lag ?? 0)
      })

      // reads the log directly: no group needed
      const readAll = Effect.fn("EventBus.readAll")(function* (topic: string, _group: string) {
        const info = yield* knownTopic(topic)
        yield* reader.refreshEnds([topic])
        const all: Array<BusMessage> = []
        for (let partition = 0; partition < info.partitions; partition++) {
          const ref = { topic, partition }
          const end = reader.end(ref) ?? 0n
          for (let position = 0n; position < end; ) {
            const { messages, next } = yield* reader.read(ref, position)
            for (const m of messages) if (BigInt(m.offset) < end) all.push(m)
            position = next
          }
        }
        return all
      })

      // in process: a query per reading costs no round trip
      const lags = (readings: ReadonlyArray<LagReading>) => Effect.forEach(readings, ({ group, topic }) => lag(group, topic))

      return EventBus.of({ ensureTopics, publish, fencedPublisher, subscribe, lag, lags, readAll })
    }),
  )
