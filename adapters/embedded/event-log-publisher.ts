// Publishing to the embedded event log with group commit: publishes that arrive while a write is
// running wait and go together in the next transaction, which takes a fixed handful of
// statements whatever the number of callers and messages (lock the partitions' rows, advance
// their next offsets, insert every message, drop older values of the same keys on compacted
// topics). Each caller resolves once its messages are committed.
//
// A fenced publisher's request carries the epoch it got when it opened (eventlog.fences, one
// row per name, bumped by every open). The transaction reads those rows FOR SHARE: a request
// whose epoch is no longer the newest is refused (the others go on), and an open waits for the
// transactions in flight, so nothing of an older epoch commits after a newer one opened.
import { Deferred, Effect, Exit, Scope } from "effect"
import type postgres from "postgres"
import { EventBusUnavailable, PublisherFenced, type BusMessage, type OutgoingMessage } from "../../src/services/event-bus.ts"
import type { TopicInfo } from "./event-log-reader.ts"

/** FNV-1a: stable across processes, so one key always lands in one partition. */
const partitionFor = (key: string, partitions: number): number => {
  let hash = 0x811c9dc5
  for (const byte of new TextEncoder().encode(key)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  return hash % partitions
}

/** Messages for one topic. */
export interface TopicBatch {
  readonly topic: string
  readonly info: TopicInfo
  readonly messages: ReadonlyArray<OutgoingMessage>
}

/** A fenced publisher's name and the epoch it opened with. */
export interface Fence {
  readonly name: string
  readonly epoch: string
}

interface Request {
  readonly batches: ReadonlyArray<TopicBatch>
  readonly fence: Fence | undefined
  readonly size: number
  readonly done: Deferred.Deferred<void, EventBusUnavailable | PublisherFenced>
}

export interface EventLogPublisher {
  readonly publish: (topic: string, info: TopicInfo, messages: ReadonlyArray<OutgoingMessage>) => Effect.Effect<void, EventBusUnavailable>
  /** Opens a fenced publisher of `name`: every earlier epoch of the name is refused from now on. */
  readonly openFence: (name: string) => Effect.Effect<Fence, EventBusUnavailable>
  /** All of `batches` in one transaction, refused unless `fence` is still the newest epoch of its name. */
  readonly publishFenced: (fence: Fence, batches: ReadonlyArray<TopicBatch>) => Effect.Effect<void, EventBusUnavailable | PublisherFenced>
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

    /** Commits what is not refused; returns the messages written and the requests refused. */
    const write = (requests: ReadonlyArray<Request>) =>
      Effect.tryPromise({
        try: () =>
          pool.begin(async (tx) => {
            const refused = new Set<Request>()
            const fenced = requests.filter((r) => r.fence !== undefined)
            if (fenced.length > 0) {
              const rows = await tx<{ name: string; epoch: string }[]>`
                select name, epoch::text as epoch from eventlog.fences where name in ${tx([...new Set(fenced.map((r) => r.fence!.name))])}
                order by name for share`
              const newest = new Map(rows.map((row) => [row.name, row.epoch]))
              for (const r of fenced) if (newest.get(r.fence!.name) !== r.fence!.epoch) refused.add(r)
            }
            const placed = requests.filter((r) => !refused.has(r)).flatMap((r) => r.batches).flatMap((b) =>
              b.messages.map((m) => ({ topic: b.topic, partition: partitionFor(m.key, b.info.partitions), compacted: b.info.compacted, message: m })),
            )
            if (placed.length === 0) return { written: [] as Array<BusMessage>, refused }
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
            const written = rows.map((r): BusMessage => ({
              topic: r.topic, partition: r.partition, offset: r.offset.toString(), key: r.message.key, value: r.message.value, headers: { ...(r.message.headers ?? {}) },
            }))
            return { written, refused }
          }),
        catch: fail("publish"),
      })

    const drain = Effect.gen(function* () {
      while (queue.length > 0) {
        let size = 0
        const batch: Array<Request> = []
        while (queue.length > 0 && (batch.length === 0 || size + queue[0]!.size <= maxBatch)) {
          const request = queue.shift()!
          size += request.size
          batch.push(request)
        }
        const exit = yield* Effect.exit(write(batch))
        if (Exit.isSuccess(exit)) onCommitted(exit.value.written)
        for (const request of batch) {
          const outcome = Exit.isFailure(exit) ? Exit.failCause(exit.cause)
            : exit.value.refused.has(request) ? Exit.fail(new PublisherFenced({ name: request.fence!.name }))
            : Exit.void
          yield* Deferred.done(request.done, outcome)
        }
      }
      writing = false
    })

    const enqueue = (batches: ReadonlyArray<TopicBatch>, fence: Fence | undefined) =>
      Effect.gen(function* () {
        const size = batches.reduce((n, b) => n + b.messages.length, 0)
        if (size === 0) return
        const done = yield* Deferred.make<void, EventBusUnavailable | PublisherFenced>()
        queue.push({ batches, fence, size, done })
        if (!writing) {
          writing = true
          yield* Effect.forkIn(drain, scope)
        }
        yield* Deferred.await(done)
      })

    const publish = (topic: string, info: TopicInfo, messages: ReadonlyArray<OutgoingMessage>) =>
      // Only a request with a fence can be refused.
      enqueue([{ topic, info, messages }], undefined).pipe(Effect.catchTag("PublisherFenced", (e) => Effect.die(e)))

    const openFence = (name: string) =>
      Effect.tryPromise({
        try: async () => {
          // Waits for the row lock of publishes in flight (FOR SHARE): they commit first, or not at all.
          const [row] = await pool<{ epoch: string }[]>`
            insert into eventlog.fences (name, epoch) values (${name}, 1)
            on conflict (name) do update set epoch = eventlog.fences.epoch + 1
            returning epoch::text as epoch`
          return { name, epoch: row!.epoch } satisfies Fence
        },
        catch: fail("open a fenced publisher"),
      })

    return { publish, openFence, publishFenced: (fence, batches) => enqueue(batches, fence) } satisfies EventLogPublisher
  })
