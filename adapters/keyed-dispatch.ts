// Delivery of one subscription, whatever the bus: messages fetched in partition order are handed
// to the handler per key, several keys at a time, and offsets are committed only up to the
// lowest message not yet finished. Both EventBus adapters (Kafka, the embedded log) feed one.
//
// - Every key has a FIFO lane; a lane runs one handler call at a time, so a key's messages are
//   never handled concurrently or out of order. At most `concurrency` lanes run at once; a free
//   slot takes the lane whose next message arrived first, so with one slot and no failure the
//   messages go in offset order, and a busy key only lets later keys overtake it.
// - With `batchPerKey` a lane hands over everything queued for its key in one call.
// - Per partition the offsets taken but not finished are tracked; the commit point is the lowest
//   of them (or the offset after the last one taken when all are finished), and it is committed
//   as it advances, by one committer that merges the partitions that moved.
// - At most `bufferSize` messages are taken and not yet finished; `offer` waits for room, which is
//   how the fetch side is held back.
// - A failing handler gets the same messages again after an exponential backoff; meanwhile its
//   lane gives up its slot, so other keys and partitions keep flowing.
// - `revoke` (a rebalance took partitions away) drops their queued messages and forgets them:
//   nothing more is committed for them; handlers already running finish.
// - Closing the scope (shutdown) takes nothing more and starts no new handler call; the calls
//   in flight get `drainMs` to finish, then are interrupted: their messages stay uncommitted and
//   come again later (at-least-once). What finished is committed one last time.
import { Cause, Effect, Exit, Scope } from "effect"
import type { BusMessage, KeyBatch } from "../src/services/event-bus.ts"

export interface PartitionRef {
  readonly topic: string
  readonly partition: number
}

/** Kafka's convention: the offset of the NEXT message to read. */
export interface CommitOffset extends PartitionRef {
  readonly offset: string
}

export interface KeyedDispatchOptions<E> {
  readonly handle: (messages: KeyBatch) => Effect.Effect<void, E>
  /** Lanes (keys) handled at the same time (default 1). */
  readonly concurrency?: number | undefined
  /** Hand over every queued message of a key at once (default false). */
  readonly batchPerKey?: boolean | undefined
  /** Messages taken and not yet finished, at most (default 256, and at least `concurrency`). */
  readonly bufferSize?: number | undefined
  /** Backoff before a failed handler gets its messages again: doubles from initial up to max. */
  readonly retryInitialMs?: number | undefined
  readonly retryMaxMs?: number | undefined
  /** Writes commit points; called by one fiber at a time. A failure is retried after `commitRetryMs`. */
  readonly commit: (offsets: ReadonlyArray<CommitOffset>) => Effect.Effect<void, unknown>
  readonly commitRetryMs?: number | undefined
  /** On close, how long handler calls in flight may take to finish before they are interrupted (default 0). */
  readonly drainMs?: number | undefined
}

export interface KeyedDispatcher {
  /**
   * Takes messages of a partition in offset order, waiting for room before each; `accepted` is
   * called for each one taken. Messages below what was already taken from their partition (a
   * fetch that started again from the committed offset) are skipped, and count as taken. Returns
   * how many were taken: fewer than given when the dispatcher closed or their partition was
   * revoked while waiting.
   */
  readonly offer: (messages: ReadonlyArray<BusMessage>, accepted?: (message: BusMessage) => void) => Effect.Effect<number>
  /** Drops what is queued for these partitions and forgets them (nothing more is committed for them). */
  readonly revoke: (partitions: ReadonlyArray<PartitionRef>) => Effect.Effect<void>
  /** Commits these partitions' points again, even unchanged (a new group generation must know them). */
  readonly recommit: (partitions: ReadonlyArray<PartitionRef>) => Effect.Effect<void>
  /**
   * Offsets `from` to `through` of a partition hold nothing to hand over (Kafka's transaction
   * markers): once what was taken before them is finished, the commit point passes them. Ignored
   * unless they follow on from what was taken, so no message is ever passed over.
   */
  readonly passed: (partition: PartitionRef, from: bigint, through: bigint) => Effect.Effect<void>
}

interface PartitionState {
  readonly ref: PartitionRef
  /** Offset after the last message taken. */
  nextOffset: bigint
  /** Taken and not finished, in offer order (= offset order): the first is the lowest. */
  readonly unfinished: Set<bigint>
  committed: bigint | undefined
}

interface Entry {
  /** Arrival order across the whole dispatcher. */
  readonly seq: number
  readonly message: BusMessage
  readonly offset: bigint
  readonly partition: PartitionState
  settled: boolean
}

interface Lane {
  readonly id: string
  readonly queue: Array<Entry>
  status: "idle" | "ready" | "running" | "backoff"
  /** The batch that failed, handed over again after the backoff. */
  retry: Array<Entry> | undefined
  failures: number
  /** Identifies the pending backoff, so a stale timer cannot wake the lane. */
  backoff: object | undefined
}

const partitionId = (ref: PartitionRef) => `${ref.topic}\u0000${ref.partition}`
// A key lives in one partition; messages without a key keep their partition's order together.
const laneId = (message: BusMessage) =>
  `${partitionId(message)}\u0000${message.key === null ? "\u0001" : `k${message.key}`}`

/** Lanes ready to run, the one whose next message arrived first on top (a binary heap). */
const makeReadyLanes = () => {
  const heap: Array<{ readonly lane: Lane; readonly seq: number }> = []
  const before = (i: number, j: number) => heap[i]!.seq < heap[j]!.seq
  const swap = (i: number, j: number) => void ([heap[i], heap[j]] = [heap[j]!, heap[i]!])
  return {
    get size() {
      return heap.length
    },
    push: (lane: Lane, seq: number) => {
      heap.push({ lane, seq })
      for (let i = heap.length - 1; i > 0 && before(i, (i - 1) >> 1); i = (i - 1) >> 1) swap(i, (i - 1) >> 1)
    },
    pop: (): Lane | undefined => {
      const top = heap[0]
      const last = heap.pop()
      if (heap.length > 0 && last !== undefined) {
        heap[0] = last
        for (let i = 0; ; ) {
          const l = 2 * i + 1, r = l + 1
          let m = i
          if (l < heap.length && before(l, m)) m = l
          if (r < heap.length && before(r, m)) m = r
          if (m === i) break
          swap(i, m)
          i = m
        }
      }
      return top?.lane
    },
  }
}

/** Callbacks waiting for something to change; each waits until woken or interrupted. */
const makeWaiters = () => {
  const waiting = new Set<() => void>()
  return {
    wait: Effect.callback<void>((resume) => {
      const wake = () => resume(Effect.void)
      waiting.add(wake)
      return Effect.sync(() => void waiting.delete(wake))
    }),
    wakeAll: () => {
      const woken = [...waiting]
      waiting.clear()
      for (const wake of woken) wake()
    },
  }
}

export const makeKeyedDispatcher = <E>(options: KeyedDispatchOptions<E>): Effect.Effect<KeyedDispatcher, never, Scope.Scope> =>
  Effect.gen(function* () {
    const concurrency = Math.max(1, options.concurrency ?? 1)
    const bufferSize = Math.max(concurrency, options.bufferSize ?? 256)
    const retryInitialMs = options.retryInitialMs ?? 200
    const retryMaxMs = options.retryMaxMs ?? 30_000
    const commitRetryMs = options.commitRetryMs ?? 1_000

    const partitions = new Map<string, PartitionState>()
    const revocations = new Map<string, number>() // partition -> how many times it was revoked
    const lanes = new Map<string, Lane>()
    const dirty = new Set<PartitionState>()
    let unfinished = 0
    let closing = false
    let running = 0 // handler calls in flight
    const callEnded = makeWaiters()
    const room = makeWaiters()
    const commitWanted = makeWaiters()
    const laneWanted = makeWaiters()
    const ready = makeReadyLanes()
    let arrivals = 0

    const commitPoint = (p: PartitionState): bigint => {
      for (const offset of p.unfinished) return offset
      return p.nextOffset
    }
    const markDirty = (p: PartitionState) => {
      if (partitions.get(partitionId(p.ref)) !== p) return
      if (p.committed !== undefined && commitPoint(p) <= p.committed) return
      dirty.add(p)
      commitWanted.wakeAll()
    }

    const settle = (entry: Entry, handled: boolean) => {
      if (entry.settled) return
      entry.settled = true
      unfinished--
      room.wakeAll()
      if (!handled) return
      entry.partition.unfinished.delete(entry.offset)
      markDirty(entry.partition)
    }

    const makeReady = (lane: Lane) => {
      const head = lane.retry?.[0] ?? lane.queue[0]
      lane.status = "ready"
      ready.push(lane, head?.seq ?? arrivals)
      laneWanted.wakeAll()
    }
    /** After a lane's turn: again at the back of the line if it has more, else forgotten. */
    const afterTurn = (lane: Lane) => {
      if (lane.queue.length > 0) return makeReady(lane)
      lane.status = "idle"
      if (lanes.get(lane.id) === lane) lanes.delete(lane.id)
    }

    const backoffThenRetry = (lane: Lane, batch: Array<Entry>, cause: Cause.Cause<E>) =>
      Effect.gen(function* () {
        lane.failures++
        lane.retry = batch
        lane.status = "backoff"
        const token = {}
        lane.backoff = token
        const delay = Math.min(retryMaxMs, retryInitialMs * 2 ** (lane.failures - 1))
        const first = batch[0]!.message
        yield* Effect.logWarning(
          `handler failed on ${first.topic}/${first.partition}@${first.offset} (key ${first.key}, attempt ${lane.failures}); the same ${batch.length} message(s) again in ${delay}ms`,
        ).pipe(Effect.annotateLogs({ cause: Cause.pretty(cause) }))
        yield* Effect.sleep(delay).pipe(
          Effect.andThen(Effect.sync(() => {
            if (lane.status === "backoff" && lane.backoff === token) makeReady(lane)
          })),
          Effect.forkIn(workers),
        )
      })

    const runTurn = (lane: Lane) =>
      Effect.gen(function* () {
        // a lane can be in the heap twice (woken by a retry and by an offer): run it once
        if (lane.status !== "ready") return
        const batch = lane.retry ?? (options.batchPerKey ? lane.queue.splice(0) : lane.queue.splice(0, 1))
        lane.retry = undefined
        lane.backoff = undefined
        if (batch.length === 0) return afterTurn(lane)
        lane.status = "running"
        running++
        const exit = yield* Effect.exit(Effect.suspend(() => options.handle(batch.map((e) => e.message) as unknown as KeyBatch))).pipe(
          Effect.ensuring(Effect.sync(() => { running--; callEnded.wakeAll() })),
        )
        // A call that finished while draining counts (it is committed); a failed one is not retried.
        if (Exit.isSuccess(exit)) {
          for (const entry of batch) settle(entry, true)
          if (closing) return
          lane.failures = 0
          return afterTurn(lane)
        }
        if (closing) return
        // messages of a partition revoked meanwhile are the new owner's now
        const again = batch.filter((entry) => partitions.get(partitionId(entry.partition.ref)) === entry.partition)
        for (const entry of batch) if (!again.includes(entry)) settle(entry, false)
        if (again.length === 0) return afterTurn(lane)
        yield* backoffThenRetry(lane, again, exit.cause)
      })

    const commitOnce = Effect.gen(function* () {
      const wanted = [...dirty]
        .filter((p) => partitions.get(partitionId(p.ref)) === p)
        .map((p) => ({ p, offset: commitPoint(p) }))
      dirty.clear()
      if (wanted.length === 0) return true
      const exit = yield* Effect.exit(options.commit(wanted.map(({ p, offset }) => ({ ...p.ref, offset: offset.toString() }))))
      if (Exit.isSuccess(exit)) {
        for (const { p, offset } of wanted) if (p.committed === undefined || offset > p.committed) p.committed = offset
        return true
      }
      for (const { p } of wanted) dirty.add(p)
      yield* Effect.logWarning(`commit of ${wanted.length} partition(s) failed; trying again in ${commitRetryMs}ms`).pipe(
        Effect.annotateLogs({ cause: Cause.pretty(exit.cause) }),
      )
      return false
    })

    const committer = Effect.gen(function* () {
      while (true) {
        while (dirty.size === 0) yield* commitWanted.wait
        // a commit in flight finishes even when the scope closes, so the last one never races it
        const done = yield* Effect.uninterruptible(commitOnce)
        if (!done) yield* Effect.sleep(commitRetryMs)
      }
    })

    const worker = Effect.gen(function* () {
      while (true) {
        // while closing no new call starts: only those in flight may finish
        const lane = closing ? undefined : ready.pop()
        if (lane === undefined) yield* laneWanted.wait
        else yield* runTurn(lane)
      }
    })

    // Handlers, timers and the committer live in their own scope: closing the subscription
    // interrupts them first, then commits what finished.
    const workers = yield* Scope.fork(yield* Effect.scope)
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        closing = true
        room.wakeAll()
        const drainMs = options.drainMs ?? 0
        if (running > 0 && drainMs > 0) {
          const drained = Effect.gen(function* () {
            while (running > 0) yield* callEnded.wait
          })
          yield* drained.pipe(Effect.timeoutOrElse({
            duration: drainMs,
            orElse: () => Effect.logWarning(`${running} handler call(s) still running after ${drainMs}ms of draining; interrupting them (their messages come again)`),
          }))
        }
        yield* Scope.close(workers, Exit.void)
        for (const p of partitions.values()) markDirty(p)
        yield* commitOnce
      }),
    )
    for (let i = 0; i < concurrency; i++) yield* Effect.forkIn(worker, workers)
    yield* Effect.forkIn(committer, workers)

    const offer = (messages: ReadonlyArray<BusMessage>, accepted?: (message: BusMessage) => void) =>
      Effect.gen(function* () {
        let taken = 0
        for (const message of messages) {
          const id = partitionId(message)
          const revoked = revocations.get(id) ?? 0
          while (unfinished >= bufferSize && !closing) yield* room.wait
          if (closing || (revocations.get(id) ?? 0) !== revoked) return taken
          const offset = BigInt(message.offset)
          let p = partitions.get(id)
          if (p === undefined) {
            p = { ref: { topic: message.topic, partition: message.partition }, nextOffset: offset, unfinished: new Set(), committed: undefined }
            partitions.set(id, p)
          }
          if (offset >= p.nextOffset) {
            p.nextOffset = offset + 1n
            p.unfinished.add(offset)
            unfinished++
            const lid = laneId(message)
            let lane = lanes.get(lid)
            if (lane === undefined) {
              lane = { id: lid, queue: [], status: "idle", retry: undefined, failures: 0, backoff: undefined }
              lanes.set(lid, lane)
            }
            lane.queue.push({ seq: arrivals++, message, offset, partition: p, settled: false })
            if (lane.status === "idle") makeReady(lane)
          }
          taken++
          accepted?.(message)
        }
        return taken
      })

    const revoke = (refs: ReadonlyArray<PartitionRef>) =>
      Effect.sync(() => {
        const gone = new Set<PartitionState>()
        for (const ref of refs) {
          const id = partitionId(ref)
          revocations.set(id, (revocations.get(id) ?? 0) + 1)
          const p = partitions.get(id)
          if (p === undefined) continue
          partitions.delete(id)
          dirty.delete(p)
          gone.add(p)
        }
        if (gone.size === 0) return
        for (const lane of [...lanes.values()]) {
          const dropped = lane.queue.filter((entry) => gone.has(entry.partition))
          if (dropped.length === 0 && !(lane.retry ?? []).some((entry) => gone.has(entry.partition))) continue
          for (const entry of dropped) settle(entry, false)
          lane.queue.splice(0, lane.queue.length, ...lane.queue.filter((entry) => !gone.has(entry.partition)))
          if (lane.retry !== undefined) {
            for (const entry of lane.retry) if (gone.has(entry.partition)) settle(entry, false)
            lane.retry = lane.retry.filter((entry) => !gone.has(entry.partition))
            if (lane.retry.length === 0) lane.retry = undefined
          }
          if (lane.status === "backoff" && lane.retry === undefined) {
            lane.backoff = undefined
            afterTurn(lane)
          }
          if (lane.status === "idle" && lane.queue.length === 0 && lanes.get(lane.id) === lane) lanes.delete(lane.id)
        }
      })

    const recommit = (refs: ReadonlyArray<PartitionRef>) =>
      Effect.sync(() => {
        for (const ref of refs) {
          const p = partitions.get(partitionId(ref))
          if (p === undefined) continue
          p.committed = undefined
          markDirty(p)
        }
      })

    const passed = (ref: PartitionRef, from: bigint, through: bigint) =>
      Effect.sync(() => {
        const p = partitions.get(partitionId(ref))
        if (p === undefined || from > p.nextOffset || through < p.nextOffset) return
        p.nextOffset = through + 1n
        markDirty(p)
      })

    return { offer, revoke, recommit, passed } satisfies KeyedDispatcher
  })
