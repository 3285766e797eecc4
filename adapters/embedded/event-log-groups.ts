// Consumer groups of the embedded event log, within this process: the members of a group split
// each topic's partitions round-robin (partition p goes to member p mod n, in join order), and a
// member reads each partition it holds with one feeder fiber that moves the shared reader's
// messages into the member's keyed dispatcher. A join or a leave rebalances the group: a member
// losing a partition stops its feeder and revokes it in its dispatcher; the one gaining it starts
// at the committed offset, which the offsets keep in memory, so it is exactly where the last
// holder committed.
import { Effect, Fiber, Scope, Semaphore } from "effect"
import { EventBusUnavailable, type Subscription } from "../../src/services/event-bus.ts"
import { makeKeyedDispatcher, type CommitOffset, type KeyedDispatcher, type PartitionRef } from "../keyed-dispatch.ts"
import type { EventLogOffsets } from "./event-log-offsets.ts"
import type { EventLogReader } from "./event-log-reader.ts"

export interface GroupSettings {
  readonly bufferSize: number
  readonly retryInitialMs: number
  readonly retryMaxMs: number
  /** Pause before a feeder reads again after the database failed it. */
  readonly readRetryMs: number
  /** On shutdown, how long handler calls in flight may take to finish before they are cut. */
  readonly drainMs: number
}

interface Member {
  readonly group: string
  readonly scope: Scope.Scope
  dispatcher: KeyedDispatcher | undefined
  /** Partitions held, each with its feeder; commits are written for these only. */
  readonly held: Map<string, { readonly ref: PartitionRef; readonly feeder: Fiber.Fiber<void> }>
  closing: boolean
}

const idOf = ({ topic, partition }: PartitionRef) => `${topic}\u0000${partition}`

export const makeEventLogGroups = (reader: EventLogReader, offsets: EventLogOffsets, settings: GroupSettings) =>
  Effect.gen(function* () {
    const lists = new Map<string, Array<Member>>() // group\0topic -> members in join order
    const partitionCounts = new Map<string, number>()
    const rebalancing = yield* Semaphore.make(1)
    const listOf = (group: string, topic: string) => {
      const key = `${group}\u0000${topic}`
      let list = lists.get(key)
      if (list === undefined) lists.set(key, (list = []))
      return list
    }

    const feeder = (member: Member, ref: PartitionRef) =>
      Effect.gen(function* () {
        let position = offsets.committed(member.group, ref) ?? 0n
        while (!member.closing) {
          const read = yield* reader.read(ref, position).pipe(
            Effect.catch((e) =>
              Effect.logWarning("event log: read failed; trying again", { topic: ref.topic, partition: ref.partition, reason: e.reason }).pipe(
                Effect.andThen(Effect.sleep(settings.readRetryMs)),
                Effect.as({ messages: [], next: position }),
              ),
            ),
          )
          if (read.messages.length === 0) {
            // offsets compaction emptied are skipped; at the end, wait for more
            if (read.next > position) position = read.next
            else yield* reader.waitBeyond(ref, position)
            continue
          }
          const taken = yield* member.dispatcher!.offer(read.messages)
          if (taken < read.messages.length) return // revoked, or the member is closing
          position = read.next
        }
      }).pipe(Effect.annotateLogs({ group: member.group }))

    const rebalance = (group: string, topic: string) =>
      rebalancing.withPermits(1)(
        Effect.gen(function* () {
          const list = listOf(group, topic)
          const partitions = partitionCounts.get(topic) ?? 0
          for (const [index, member] of list.entries()) {
            const wanted = new Set<number>()
            for (let p = index; p < partitions; p += list.length) wanted.add(p)
            const lost = [...member.held.values()].filter(({ ref }) => ref.topic === topic && !wanted.has(ref.partition))
            for (const { ref } of lost) member.held.delete(idOf(ref))
            yield* member.dispatcher!.revoke(lost.map(({ ref }) => ref))
            for (const { feeder: fiber } of lost) yield* Fiber.interrupt(fiber)
            for (const partition of wanted) {
              const ref = { topic, partition }
              if (member.held.has(idOf(ref))) continue
              member.held.set(idOf(ref), { ref, feeder: yield* Effect.forkIn(feeder(member, ref), member.scope) })
            }
          }
        }),
      )

    const leave = (member: Member, topics: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        member.closing = true
        for (const { feeder: fiber } of member.held.values()) yield* Fiber.interrupt(fiber)
        member.held.clear()
        for (const topic of topics) {
          const list = listOf(member.group, topic)
          list.splice(list.indexOf(member), 1)
          yield* rebalance(member.group, topic)
        }
      })

    const join = <E>(sub: Subscription<E>) =>
      Effect.gen(function* () {
        for (const topic of sub.topics) {
          const info = yield* reader.topic(topic)
          if (info === undefined) return yield* new EventBusUnavailable({ reason: `unknown topic ${topic}` })
          partitionCounts.set(topic, info.partitions)
        }
        yield* reader.refreshEnds(sub.topics)
        yield* offsets.load(sub.group, sub.topics)
        // A new group starts at the beginning or at the end, and records that start at once, so
        // a publish right after subscribe is seen.
        const starts: Array<CommitOffset> = []
        for (const topic of sub.topics) {
          for (let partition = 0; partition < (partitionCounts.get(topic) ?? 0); partition++) {
            const ref = { topic, partition }
            if (offsets.committed(sub.group, ref) !== undefined) continue
            starts.push({ ...ref, offset: sub.fromBeginning ? "0" : (reader.end(ref) ?? 0n).toString() })
          }
        }
        yield* offsets.commit(sub.group, starts)

        const member: Member = { group: sub.group, scope: yield* Effect.scope, dispatcher: undefined, held: new Map(), closing: false }
        // finalizers run last to first: stop the feeders, close the dispatcher (interrupt the
        // handlers, commit what finished, still holding the partitions), then hand them over
        yield* Effect.addFinalizer(() => leave(member, sub.topics))
        member.dispatcher = yield* makeKeyedDispatcher({
          handle: sub.handle,
          concurrency: sub.concurrency,
          batchPerKey: sub.batchPerKey,
          bufferSize: settings.bufferSize,
          retryInitialMs: settings.retryInitialMs,
          retryMaxMs: settings.retryMaxMs,
          drainMs: settings.drainMs,
          commit: (points) => offsets.commit(sub.group, points.filter((point) => member.held.has(idOf(point)))),
        })
        yield* Effect.addFinalizer(() =>
          Effect.gen(function* () {
            member.closing = true
            for (const { feeder: fiber } of member.held.values()) yield* Fiber.interrupt(fiber)
          }),
        )
        for (const topic of sub.topics) {
          listOf(sub.group, topic).push(member)
          yield* rebalance(sub.group, topic)
        }
      })

    return { join }
  })
