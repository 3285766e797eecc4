// The embedded EventBus: a durable log in the embedded Postgres (schema `eventlog`) with Kafka's
// semantics where Fabric relies on them: partitions chosen by key hash (per-key order), consumer
// groups whose members split the partitions, offsets committed only after the handler succeeds,
// at-least-once redelivery after a crash, and compaction (older values of a key are dropped).
// It lives in the same database as the state, so it survives a restart of the embedded default.
import { Effect, Layer, Schedule } from "effect"
import type postgres from "postgres"
import { Database } from "../postgres/database.ts"
import { EventBus, EventBusUnavailable, type BusMessage, type OutgoingMessage, type Subscription, type TopicSpec } from "../../src/services/event-bus.ts"

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
`

/** FNV-1a: stable across processes, so one key always lands in one partition. */
const partitionFor = (key: string, partitions: number): number => {
  let hash = 0x811c9dc5
  for (const byte of new TextEncoder().encode(key)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  return hash % partitions
}

interface Assignment { readonly topic: string; readonly partition: number }
interface Row { partition: number; offset: string; key: string | null; value: string | null; headers: Record<string, string> }

export interface EventLogOptions {
  /** How long an idle member sleeps before polling again (publishes in this process wake it at once). */
  readonly pollIntervalMs?: number
  readonly batchSize?: number
}

export const layer = (options: EventLogOptions = {}) =>
  Layer.effect(
    EventBus,
    Effect.gen(function* () {
      const { pool } = yield* Database
      const pollIntervalMs = options.pollIntervalMs ?? 250
      const batchSize = options.batchSize ?? 100
      const fail = (what: string) => (cause: unknown) => new EventBusUnavailable({ reason: `${what}: ${(cause as Error)?.message ?? cause}` })
      const db = <A>(what: string, run: (sql: postgres.Sql) => Promise<A>) => Effect.tryPromise({ try: () => run(pool), catch: fail(what) })

      yield* db("create event log", (sql) => sql.unsafe(schema).simple())

      // Wake-ups for members of this process; other processes find new messages by polling.
      let waiters: Array<() => void> = []
      const wakeAll = () => {
        const current = waiters
        waiters = []
        for (const wake of current) wake()
      }
      const nextWake = (ms: number) =>
        Effect.callback<void>((resume) => {
          const done = () => { clearTimeout(timer); resume(Effect.void) }
          const timer = setTimeout(done, ms)
          waiters.push(done)
          return Effect.sync(() => clearTimeout(timer))
        })

      // Group membership of this process, per topic: the members of a group subscribed to a topic
      // split its partitions round-robin (as Kafka assigns per topic subscription).
      const members = new Map<string, Array<symbol>>()
      const memberKey = (group: string, topic: string) => `${group}\u0000${topic}`

      const ensureTopics = Effect.fn("EventBus.ensureTopics")(function* (specs: ReadonlyArray<TopicSpec>) {
        for (const spec of specs) {
          yield* db("ensure topic", (sql) => sql`
            insert into eventlog.partitions ${sql(Array.from({ length: spec.partitions }, (_, partition) => ({ topic: spec.name, partition, compacted: spec.compacted })))}
            on conflict do nothing`)
        }
      })

      const partitionsOf = (topic: string) =>
        db("read topic", (sql) => sql<{ partition: number; compacted: boolean; nextOffset: string }[]>`
          select partition, compacted, next_offset as "nextOffset" from eventlog.partitions where topic = ${topic} order by partition`)

      const publish = Effect.fn("EventBus.publish")(function* (topic: string, messages: ReadonlyArray<OutgoingMessage>) {
        const partitions = yield* partitionsOf(topic)
        if (partitions.length === 0) return yield* new EventBusUnavailable({ reason: `unknown topic ${topic}` })
        yield* db("publish", (sql) =>
          sql.begin(async (tx) => {
            for (const m of messages) {
              const { partition, compacted } = partitions[partitionFor(m.key, partitions.length)]!
              const [{ offset }] = await tx<{ offset: string }[]>`
                update eventlog.partitions set next_offset = next_offset + 1
                where topic = ${topic} and partition = ${partition} returning next_offset - 1 as offset` as unknown as [{ offset: string }]
              if (compacted) await tx`delete from eventlog.messages where topic = ${topic} and partition = ${partition} and key = ${m.key}`
              await tx`insert into eventlog.messages (topic, partition, "offset", key, value, headers)
                values (${topic}, ${partition}, ${offset}, ${m.key}, ${m.value}, ${tx.json((m.headers ?? {}) as never)})`
            }
          }),
        )
        wakeAll()
      })

      const assignmentFor = (group: string, member: symbol, all: ReadonlyArray<Assignment>): Assignment[] =>
        all.filter((a) => {
          const list = members.get(memberKey(group, a.topic)) ?? []
          const index = list.indexOf(member)
          return index >= 0 && a.partition % list.length === index
        })

      const committedOffset = (group: string, a: Assignment, fromBeginning: boolean) =>
        Effect.gen(function* () {
          const rows = yield* db("read commit", (sql) => sql<{ nextOffset: string }[]>`
            select next_offset as "nextOffset" from eventlog.commits where group_id = ${group} and topic = ${a.topic} and partition = ${a.partition}`)
          if (rows[0]) return BigInt(rows[0].nextOffset)
          // A new group starts at the beginning or at the end, and records that start at once.
          const start = fromBeginning ? 0n : BigInt((yield* partitionsOf(a.topic)).find((p) => p.partition === a.partition)?.nextOffset ?? 0)
          yield* commit(group, a, start)
          return start
        })

      const commit = (group: string, a: Assignment, nextOffset: bigint) =>
        db("commit", (sql) => sql`
          insert into eventlog.commits (group_id, topic, partition, next_offset) values (${group}, ${a.topic}, ${a.partition}, ${nextOffset.toString()})
          on conflict (group_id, topic, partition) do update set next_offset = excluded.next_offset`)

      const handleWithRetry = <E>(handle: Subscription<E>["handle"], message: BusMessage) =>
        handle([message]).pipe(
          Effect.tapError((e) => Effect.logWarning("handler failed; retrying the same message", { topic: message.topic, partition: message.partition, offset: message.offset, error: String(e) })),
          Effect.retry(Schedule.min([Schedule.exponential("50 millis"), Schedule.spaced("5 seconds")])),
        )

      /** One pass over a member's partitions; true when it handled anything. */
      const drain = <E>(sub: Subscription<E>, member: symbol, all: ReadonlyArray<Assignment>) =>
        Effect.gen(function* () {
          let handled = false
          for (const a of assignmentFor(sub.group, member, all)) {
            const from = yield* committedOffset(sub.group, a, sub.fromBeginning)
            const rows = yield* db("fetch", (sql) => sql<Row[]>`
              select partition, "offset"::text as offset, key, value, headers from eventlog.messages
              where topic = ${a.topic} and partition = ${a.partition} and "offset" >= ${from.toString()}
              order by eventlog.messages."offset" limit ${batchSize}`)
            for (const row of rows) {
              // A rebalance may have moved the partition; stop so the new owner takes over.
              if (!assignmentFor(sub.group, member, all).some((x) => x.topic === a.topic && x.partition === a.partition)) break
              yield* handleWithRetry(sub.handle, { topic: a.topic, partition: row.partition, offset: row.offset, key: row.key, value: row.value, headers: row.headers })
              yield* commit(sub.group, a, BigInt(row.offset) + 1n)
              handled = true
            }
          }
          return handled
        })

      const subscribe = <E>(sub: Subscription<E>) =>
        Effect.gen(function* () {
          const all: Assignment[] = []
          for (const topic of sub.topics) {
            const partitions = yield* partitionsOf(topic)
            if (partitions.length === 0) return yield* new EventBusUnavailable({ reason: `unknown topic ${topic}` })
            for (const p of partitions) all.push({ topic, partition: p.partition })
          }
          const member = Symbol(sub.group)
          const keys = sub.topics.map((topic) => memberKey(sub.group, topic))
          yield* Effect.acquireRelease(
            Effect.sync(() => { for (const k of keys) members.set(k, [...(members.get(k) ?? []), member]) }),
            () => Effect.sync(() => { for (const k of keys) members.set(k, (members.get(k) ?? []).filter((m) => m !== member)) }),
          )
          // Resolve start offsets now, so a publish right after subscribe is seen by a new group.
          for (const a of assignmentFor(sub.group, member, all)) yield* committedOffset(sub.group, a, sub.fromBeginning)
          const loop = Effect.gen(function* () {
            while (true) {
              const handled = yield* drain(sub, member, all).pipe(
                Effect.catch((e) => Effect.logWarning("event log poll failed", { group: sub.group, error: String(e) }).pipe(Effect.as(false))),
              )
              if (!handled) yield* nextWake(pollIntervalMs)
            }
          })
          yield* Effect.forkScoped(loop)
        }).pipe(Effect.withSpan("EventBus.subscribe", { attributes: { group: sub.group } }))

      const lag = Effect.fn("EventBus.lag")(function* (group: string, topic: string) {
        const rows = yield* db("lag", (sql) => sql<{ lag: string }[]>`
          select coalesce(sum(p.next_offset - coalesce(c.next_offset, 0)), 0)::text as lag
          from eventlog.partitions p
          left join eventlog.commits c on c.group_id = ${group} and c.topic = p.topic and c.partition = p.partition
          where p.topic = ${topic}`)
        return Number(rows[0]?.lag ?? 0)
      })

      const readAll = Effect.fn("EventBus.readAll")(function* (topic: string) {
        const rows = yield* db("read topic", (sql) => sql<Row[]>`
          select partition, "offset"::text as offset, key, value, headers from eventlog.messages
          where topic = ${topic} order by partition, eventlog.messages."offset"`)
        return rows.map((row): BusMessage => ({ topic, partition: row.partition, offset: row.offset, key: row.key, value: row.value, headers: row.headers }))
      })

      return EventBus.of({ ensureTopics, publish, subscribe, lag, readAll })
    }),
  )
