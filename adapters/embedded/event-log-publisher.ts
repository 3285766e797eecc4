// Publishing to the embedded event log with group commit: publishes that arrive while a write is
// running wait and go together in the next transaction, which takes a fixed handful of
// statements whatever the number of callers and messages (lock the partitions' rows, advance
// their next offsets, insert every message, drop older values of the same keys on compacted
// topics). Each caller resolves once its messages are committed.
import { Deferred, Effect, Exit, Scope } from "effect"
import type postgres from "postgres"
import { EventBusUnavailable, type BusMessage, type OutgoingMessage } from "../../src/services/event-bus.ts"
import type { TopicInfo } from "./event-log-reader.ts"

/** FNV-1a: stable across processes, so one key always lands in one partition. */
const partitionFor = (key: string, partitions: number): number => {
  let hash = 0x811c9dc5
  for (const byte of new TextEncoder().encode(key)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  return hash % partitions
}

interface Request {
  readonly topic: string
  readonly info: TopicInfo
  readonly messages: ReadonlyArray<OutgoingMessage>
  readonly done: Deferred.Deferred<void, EventBusUnavailable>
}

export interface EventLogPublisher {
  readonly publish: (topic: string, info: TopicInfo, messages: ReadonlyArray<OutgoingMessage>) => Effect.Effect<void, EventBusUnavailable>
}

/** Messages per transaction, at most (a single request is never split). */
const maxBatch = 2_000

export const makeEventLogPublisher = (
  pool: postgres.Sql,
  /** Called with the committed messages, in offset order per partition. */
  onCommitted: (messages: ReadonlyArray<BusMessage>) => void,
  fail: (what: string) => (cause: unknown) => EventBusUnavailable,
): Effect.Effect<EventLogPublisher, never, Scope.Scope> =>
  Effect.gen(function* () {
    let queue: Array<Request> = []
    let writing = false
    const scope = yield* Effect.scope

    const write = (requests: ReadonlyArray<Request>) =>
      Effect.tryPromise({
        try: () =>
          pool.begin(async (tx) => {
            const placed = requests.flatMap((r) =>
              r.messages.map((m) => ({ topic: r.topic, partition: partitionFor(m.key, r.info.partitions), compacted: r.info.compacted, message: m })),
            )
            const counts = new Map<string, { topic: string; partition: number; n: number }>()
            for (const { topic, partition } of placed) {
              const id = `${topic}\u0000${partition}`
              const entry = counts.get(id) ?? { topic, partition, n: 0 }
              entry.n++
              counts.set(id, entry)
            }
            const touched = [...counts.values()]
            const topics = tx.array(touched.map((t) => t.topic))
            const partitions = tx.array(touched.map((t) => String(t.partition)))
            // rows locked in one order, so publishers in other processes cannot deadlock with us
            const firsts = await tx<{ topic: string; partition: number; first: string }[]>`
              select topic, partition, next_offset::text as first from eventlog.partitions
              where (topic, partition) in (select * from unnest(${topics}::text[], ${partitions}::int[]))
              order by topic, partition for update`
            await tx`
              update eventlog.partitions p set next_offset = p.next_offset + c.n
              from unnest(${topics}::text[], ${partitions}::int[], ${tx.array(touched.map((t) => String(t.n)))}::bigint[]) as c(topic, partition, n)
              where p.topic = c.topic and p.partition = c.partition`
            const next = new Map(firsts.map((f) => [`${f.topic}\u0000${f.partition}`, BigInt(f.first)]))
            const rows = placed.map((p) => {
              const id = `${p.topic}\u0000${p.partition}`
              const offset = next.get(id)!
              next.set(id, offset + 1n)
              return { ...p, offset }
            })
            await tx`
              insert into eventlog.messages (topic, partition, "offset", key, value, headers)
              select * from unnest(${tx.array(rows.map((r) => r.topic))}::text[], ${tx.array(rows.map((r) => String(r.partition)))}::int[],
                                   ${tx.array(rows.map((r) => r.offset.toString()))}::bigint[], ${tx.array(rows.map((r) => r.message.key))}::text[],
                                   ${tx.array(rows.map((r) => r.message.value) as Array<string>)}::text[],
                                   ${tx.array(rows.map((r) => JSON.stringify(r.message.headers ?? {})))}::jsonb[])`
            // compaction: every older value of a key written here goes (its newest stays)
            const newest = new Map<string, { topic: string; partition: number; key: string; offset: bigint }>()
            for (const r of rows) if (r.compacted) newest.set(`${r.topic}\u0000${r.partition}\u0000${r.message.key}`, { topic: r.topic, partition: r.partition, key: r.message.key, offset: r.offset })
            if (newest.size > 0) {
              const keep = [...newest.values()]
              await tx`
                delete from eventlog.messages m
                using unnest(${tx.array(keep.map((k) => k.topic))}::text[], ${tx.array(keep.map((k) => String(k.partition)))}::int[],
                             ${tx.array(keep.map((k) => k.key))}::text[], ${tx.array(keep.map((k) => k.offset.toString()))}::bigint[]) as c(topic, partition, key, newest)
                where m.topic = c.topic and m.partition = c.partition and m.key = c.key and m."offset" < c.newest`
            }
            return rows.map((r): BusMessage => ({
              topic: r.topic, partition: r.partition, offset: r.offset.toString(), key: r.message.key, value: r.message.value, headers: { ...(r.message.headers ?? {}) },
            }))
          }),
        catch: fail("publish"),
      })

    const drain = Effect.gen(function* () {
      while (queue.length > 0) {
        let size = 0
        const batch: Array<Request> = []
        while (queue.length > 0 && (batch.length === 0 || size + queue[0]!.messages.length <= maxBatch)) {
          const request = queue.shift()!
          size += request.messages.length
          batch.push(request)
        }
        const exit = yield* Effect.exit(write(batch))
        if (Exit.isSuccess(exit)) onCommitted(exit.value)
        const outcome = Exit.isSuccess(exit) ? Exit.void : Exit.failCause(exit.cause)
        for (const request of batch) yield* Deferred.done(request.done, outcome)
      }
      writing = false
    })

    const publish = (topic: string, info: TopicInfo, messages: ReadonlyArray<OutgoingMessage>) =>
      Effect.gen(function* () {
        if (messages.length === 0) return
        const done = yield* Deferred.make<void, EventBusUnavailable>()
        queue.push({ topic, info, messages, done })
        if (!writing) {
          writing = true
          yield* Effect.forkIn(drain, scope)
        }
        yield* Deferred.await(done)
      })

    return { publish } satisfies EventLogPublisher
  })
