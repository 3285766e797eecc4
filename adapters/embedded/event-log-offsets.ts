// Committed offsets of the embedded event log, for every group of the process: kept in memory
// (a member that takes a partition over starts exactly where the last one committed) and written
// through to eventlog.commits. Commits that arrive while a write is running go together in the
// next one, so the groups of a process share one statement per round instead of one each.
import { Deferred, Effect, Scope } from "effect"
import type postgres from "postgres"
import { EventBusUnavailable } from "../../src/services/event-bus.ts"
import type { CommitOffset, PartitionRef } from "../keyed-dispatch.ts"

const keyOf = (group: string, { topic, partition }: PartitionRef) => `${group}\u0000${topic}\u0000${partition}`

interface Pending {
  readonly group: string
  readonly ref: PartitionRef
  readonly offset: bigint
}

export interface EventLogOffsets {
  /** Reads the group's commits on these topics (once per group; later reads keep what is in memory). */
  readonly load: (group: string, topics: ReadonlyArray<string>) => Effect.Effect<void, EventBusUnavailable>
  readonly committed: (group: string, ref: PartitionRef) => bigint | undefined
  /** Takes the commits at once (in memory) and resolves when they are in the database. */
  readonly commit: (group: string, offsets: ReadonlyArray<CommitOffset>) => Effect.Effect<void, EventBusUnavailable>
}

export const makeEventLogOffsets = (
  pool: postgres.Sql,
  fail: (what: string) => (cause: unknown) => EventBusUnavailable,
): Effect.Effect<EventLogOffsets, never, Scope.Scope> =>
  Effect.gen(function* () {
    const memory = new Map<string, bigint>()
    const loaded = new Set<string>() // group\0topic
    let pending = new Map<string, Pending>()
    let flushed = yield* Deferred.make<void, EventBusUnavailable>() // resolved by the write that takes `pending`
    let writing = false

    const load = (group: string, topics: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const missing = topics.filter((topic) => !loaded.has(`${group}\u0000${topic}`))
        if (missing.length === 0) return
        const rows = yield* Effect.tryPromise({
          try: () => pool<{ topic: string; partition: number; nextOffset: string }[]>`
            select topic, partition, next_offset::text as "nextOffset" from eventlog.commits
            where group_id = ${group} and topic = any(${pool.array(missing)}::text[])`,
          catch: fail("read commits"),
        })
        for (const row of rows) {
          const key = keyOf(group, row)
          if (!memory.has(key)) memory.set(key, BigInt(row.nextOffset))
        }
        for (const topic of missing) loaded.add(`${group}\u0000${topic}`)
      })

    const write = (batch: ReadonlyArray<Pending>) =>
      Effect.tryPromise({
        try: () => pool`
          insert into eventlog.commits (group_id, topic, partition, next_offset)
          select * from unnest(${pool.array(batch.map((p) => p.group))}::text[], ${pool.array(batch.map((p) => p.ref.topic))}::text[],
                               ${pool.array(batch.map((p) => String(p.ref.partition)))}::int[], ${pool.array(batch.map((p) => p.offset.toString()))}::bigint[])
          on conflict (group_id, topic, partition) do update set next_offset = excluded.next_offset`,
        catch: fail("write commits"),
      })

    // One write at a time; whoever commits while none runs starts it, and it goes on while
    // commits keep coming.
    const flush = Effect.gen(function* () {
      while (pending.size > 0) {
        const batch = [...pending.values()]
        const done = flushed
        pending = new Map()
        flushed = yield* Deferred.make<void, EventBusUnavailable>()
        yield* Deferred.done(done, yield* Effect.exit(Effect.asVoid(write(batch))))
      }
      writing = false
    })
    const scope = yield* Effect.scope

    const commit = (group: string, offsets: ReadonlyArray<CommitOffset>) =>
      Effect.gen(function* () {
        if (offsets.length === 0) return
        for (const { topic, partition, offset } of offsets) {
          const ref = { topic, partition }
          const key = keyOf(group, ref)
          memory.set(key, BigInt(offset))
          pending.set(key, { group, ref, offset: BigInt(offset) })
        }
        const mine = flushed
        if (!writing) {
          writing = true
          yield* Effect.forkIn(flush, scope)
        }
        yield* Deferred.await(mine)
      })

    return {
      load,
      committed: (group, ref) => memory.get(keyOf(group, ref)),
      commit,
    } satisfies EventLogOffsets
  })
