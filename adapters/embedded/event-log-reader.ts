// What the members of every group in the process read, shared: per topic-partition the known
// end (next offset) and a cache of messages in chunks of consecutive offsets, filled by this
// process's publishes as they commit and by one database read per chunk however many members
// want it. A member that has read up to the end waits for a wake-up: a publish in this process,
// or the slow poll of the partitions' ends that notices what other processes wrote (the log can
// live on a shared Postgres server).
import { Effect, Scope } from "effect"
import type postgres from "postgres"
import type { BusMessage, EventBusUnavailable } from "../../src/services/event-bus.ts"
import type { PartitionRef } from "../keyed-dispatch.ts"

export interface TopicInfo {
  readonly partitions: number
  readonly compacted: boolean
}

export interface ReaderOptions {
  /** How often the ends of followed partitions are read, for messages other processes wrote. */
  readonly pollIntervalMs: number
  /** Offsets per chunk: a member reads at most this many messages at once. */
  readonly chunkSize: number
  /** Cached messages, at most, over all partitions (least recently read chunks go first). */
  readonly cacheSize: number
}

interface Row { offset: string; key: string | null; value: string | null; headers: Record<string, string> }

interface Chunk {
  readonly start: bigint
  readonly messages: Array<BusMessage>
  /** Every message that still exists with an offset in [start, complete) is in `messages`. */
  complete: bigint
  lastRead: number
}

interface PartitionLog {
  readonly ref: PartitionRef
  /** The next offset: everything below is committed. */
  end: bigint | undefined
  readonly chunks: Map<bigint, Chunk>
  readonly loading: Map<bigint, Promise<void>>
  readonly waiters: Set<() => void>
}

export interface EventLogReader {
  /** Partitions and policy of a topic (cached: topics never change once created), undefined if unknown. */
  readonly topic: (name: string) => Effect.Effect<TopicInfo | undefined, EventBusUnavailable>
  /** Forgets what is cached about a topic's existence (after ensureTopics). */
  readonly forgetTopic: (name: string) => void
  /** Reads the ends of these topics' partitions now. */
  readonly refreshEnds: (topics: ReadonlyArray<string>) => Effect.Effect<void, EventBusUnavailable>
  readonly end: (ref: PartitionRef) => bigint | undefined
  /** Messages this process has just committed (in offset order per partition). */
  readonly published: (messages: ReadonlyArray<BusMessage>) => void
  /**
   * Messages from `from` on (at most to the end of its chunk) and the offset to read next; none
   * when `from` is at the known end.
   */
  readonly read: (ref: PartitionRef, from: bigint) => Effect.Effect<{ readonly messages: ReadonlyArray<BusMessage>; readonly next: bigint }, EventBusUnavailable>
  /** Waits until the partition's end is beyond `position`. */
  readonly waitBeyond: (ref: PartitionRef, position: bigint) => Effect.Effect<void>
}

const idOf = ({ topic, partition }: PartitionRef) => `${topic}\u0000${partition}`

/** First index whose offset is at least `from` (messages are in offset order). */
const firstAtOrAfter = (messages: ReadonlyArray<BusMessage>, from: bigint) => {
  let lo = 0
  let hi = messages.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (BigInt(messages[mid]!.offset) < from) lo = mid + 1
    else hi = mid
  }
  return lo
}

export const makeEventLogReader = (
  pool: postgres.Sql,
  options: ReaderOptions,
  fail: (what: string) => (cause: unknown) => EventBusUnavailable,
): Effect.Effect<EventLogReader, never, Scope.Scope> =>
  Effect.gen(function* () {
    const size = BigInt(options.chunkSize)
    const topics = new Map<string, TopicInfo>()
    const logs = new Map<string, PartitionLog>()
    let cached = 0
    let reads = 0

    const logOf = (ref: PartitionRef): PartitionLog => {
      const id = idOf(ref)
      let log = logs.get(id)
      if (log === undefined) {
        log = { ref: { topic: ref.topic, partition: ref.partition }, end: undefined, chunks: new Map(), loading: new Map(), waiters: new Set() }
        logs.set(id, log)
      }
      return log
    }

    const advanceEnd = (log: PartitionLog, end: bigint) => {
      if (log.end !== undefined && end <= log.end) return
      log.end = end
      const woken = [...log.waiters]
      log.waiters.clear()
      for (const wake of woken) wake()
    }

    const evictIfFull = () => {
      while (cached > options.cacheSize) {
        let oldest: { log: PartitionLog; chunk: Chunk } | undefined
        for (const log of logs.values()) {
          for (const chunk of log.chunks.values()) if (oldest === undefined || chunk.lastRead < oldest.chunk.lastRead) oldest = { log, chunk }
        }
        if (oldest === undefined) return
        oldest.log.chunks.delete(oldest.chunk.start)
        cached -= oldest.chunk.messages.length
      }
    }

    const topic = (name: string) =>
      Effect.gen(function* () {
        const known = topics.get(name)
        if (known !== undefined) return known
        const rows = yield* Effect.tryPromise({
          try: () => pool<{ compacted: boolean }[]>`select compacted from eventlog.partitions where topic = ${name}`,
          catch: fail("read topic"),
        })
        if (rows.length === 0) return undefined
        const info = { partitions: rows.length, compacted: rows[0]!.compacted }
        topics.set(name, info)
        return info
      })

    const refreshEnds = (names: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        if (names.length === 0) return
        const rows = yield* Effect.tryPromise({
          try: () => pool<{ topic: string; partition: number; end: string }[]>`
            select topic, partition, next_offset::text as "end" from eventlog.partitions where topic = any(${pool.array([...names])}::text[])`,
          catch: fail("read the ends of the log"),
        })
        for (const row of rows) advanceEnd(logOf(row), BigInt(row.end))
      })

    const published = (messages: ReadonlyArray<BusMessage>) => {
      for (const message of messages) {
        const log = logOf(message)
        const offset = BigInt(message.offset)
        const start = offset - (offset % size)
        let chunk = log.chunks.get(start)
        if (chunk === undefined && offset === start) {
          chunk = { start, messages: [], complete: start, lastRead: reads }
          log.chunks.set(start, chunk)
        }
        // only right after what the chunk holds completely; a gap is filled by a read later
        if (chunk !== undefined && chunk.complete === offset) {
          chunk.messages.push(message)
          chunk.complete = offset + 1n
          cached++
        }
      }
      evictIfFull()
      const ends = new Map<PartitionLog, bigint>()
      for (const message of messages) ends.set(logOf(message), BigInt(message.offset) + 1n)
      for (const [log, end] of ends) advanceEnd(log, end)
    }

    /** Loads [from, upTo) of one chunk from the database into the cache. */
    const load = (log: PartitionLog, start: bigint, from: bigint, upTo: bigint) =>
      Effect.tryPromise({
        try: async () => {
          const rows = await pool<Row[]>`
            select "offset"::text as "offset", key, value, headers from eventlog.messages
            where topic = ${log.ref.topic} and partition = ${log.ref.partition}
              and "offset" >= ${from.toString()} and "offset" < ${upTo.toString()}
            order by "offset"`
          const messages = rows.map((row): BusMessage => ({ ...log.ref, offset: row.offset, key: row.key, value: row.value, headers: row.headers }))
          let chunk = log.chunks.get(start)
          if (chunk === undefined && from === start) {
            chunk = { start, messages: [], complete: start, lastRead: reads }
            log.chunks.set(start, chunk)
          }
          // evicted (or replaced) meanwhile: what was read no longer joins up; the reader reads again
          if (chunk === undefined || chunk.complete < from) return
          // a publish may have appended meanwhile: keep what the chunk has beyond `from`
          if (chunk.complete >= upTo) return
          const fresh = messages.filter((m) => BigInt(m.offset) >= chunk.complete)
          chunk.messages.push(...fresh)
          chunk.complete = upTo
          cached += fresh.length
          evictIfFull()
        },
        catch: fail("read the log"),
      })

    const read = (ref: PartitionRef, from: bigint) =>
      Effect.gen(function* () {
        const log = logOf(ref)
        const start = from - (from % size)
        while (true) {
          const end = log.end
          if (end === undefined || from >= end) return { messages: [], next: from }
          const chunk = log.chunks.get(start)
          if (chunk !== undefined && chunk.complete > from) {
            chunk.lastRead = ++reads
            return { messages: chunk.messages.slice(firstAtOrAfter(chunk.messages, from)), next: chunk.complete }
          }
          // one database read per chunk at a time; whoever comes meanwhile waits for it
          const running = log.loading.get(start)
          if (running !== undefined) {
            yield* Effect.promise(() => running.catch(() => {}))
            continue
          }
          const upTo = end < start + size ? end : start + size
          const loadFrom = chunk !== undefined && chunk.complete > start ? chunk.complete : start
          const loading = Effect.runPromise(load(log, start, loadFrom, upTo))
          log.loading.set(start, loading)
          yield* Effect.tryPromise({ try: () => loading, catch: (e) => e as EventBusUnavailable }).pipe(
            Effect.ensuring(Effect.sync(() => void log.loading.delete(start))),
          )
        }
      })

    const waitBeyond = (ref: PartitionRef, position: bigint) =>
      Effect.callback<void>((resume) => {
        const log = logOf(ref)
        if (log.end !== undefined && log.end > position) return resume(Effect.void)
        const wake = () => resume(Effect.void)
        log.waiters.add(wake)
        return Effect.sync(() => void log.waiters.delete(wake))
      })

    // The slow poll: only while someone waits, one statement for every partition waited on.
    const poll = Effect.gen(function* () {
      while (true) {
        yield* Effect.sleep(options.pollIntervalMs)
        const followed = new Set<string>()
        for (const log of logs.values()) if (log.waiters.size > 0) followed.add(log.ref.topic)
        yield* refreshEnds([...followed]).pipe(Effect.catch((e) => Effect.logWarning("event log: reading the ends failed", { reason: e.reason })))
      }
    })
    yield* Effect.forkScoped(poll)

    return {
      topic,
      forgetTopic: (name) => void topics.delete(name),
      refreshEnds,
      end: (ref) => logOf(ref).end,
      published,
      read,
      waitBeyond,
    } satisfies EventLogReader
  })
