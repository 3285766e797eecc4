// How a daemon works through desired state, whatever the entity (a project's namespace, a
// resource's object): the newest generation of a key's queued messages, under the entity's lock;
// refusals reported at once, outages waited out; deletions followed until really gone.
import { type Duration, Effect, Schedule } from "effect"
import { Cluster, type ClusterRefused } from "../services/cluster.ts"
import { sendToDeadLetters } from "../services/dead-letters.ts"
import type { BusMessage, EventBusUnavailable, KeyBatch } from "../services/event-bus.ts"
import { Metrics } from "../services/metrics.ts"
import { requestIdHeader, withRequestId } from "../services/request-id.ts"
import { reconcileErrors } from "./daemon-metrics.ts"
import type { KeyedLock } from "./keyed-lock.ts"
import { refusalReason } from "./observe.ts"

export interface HandlingOptions {
  /** Backoff between attempts while the cluster is unreachable (refusals are not retried here). */
  readonly retryBase: Duration.Input
  readonly retryCap: Duration.Input
  /** First wait before looking again at a Terminating namespace (or a deleted object); later waits double, up to 8 times it. */
  readonly deletionPollMs: number
}

/** Asks `remove` again (backing off, holding no apiserver permit in between) until it answers "absent". */
export const untilGone = <E, R>(remove: () => Effect.Effect<"deleting" | "absent", E, R>, options: HandlingOptions) =>
  Effect.gen(function* () {
    for (let wait = options.deletionPollMs; (yield* remove()) === "deleting"; wait = Math.min(wait * 2, options.deletionPollMs * 8)) {
      yield* Effect.sleep(wait)
    }
  })

/**
 * Runs `reconcile` until it has an outcome. A refusal is not retried here and must not hold the
 * entity's later changes: it becomes `refused(reason)`, reported Failed, and the drift check tries
 * it again later. An outage passes, so the entity waits for it (its order kept; other entities go
 * on), telling the management side once, with `tellFailing`, that this cluster is struggling.
 */
export const untilSettled = <A, E extends { readonly _tag: string; readonly reason: string }, R, R2>(
  reconcile: Effect.Effect<A, E | ClusterRefused, R>, refused: (reason: string) => A, tellFailing: (reason: string) => Effect.Effect<void, EventBusUnavailable, R2>, options: HandlingOptions,
) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const metrics = yield* Metrics
    let reportedFailure = false
    return yield* reconcile.pipe(
      Effect.tapError(() => metrics.increment(reconcileErrors, { cluster: cluster.id })),
      Effect.catchIf((e): e is ClusterRefused => e._tag === "ClusterRefused", (e) => Effect.succeed(refused(refusalReason(e.reason)))),
      Effect.tapError((e) =>
        reportedFailure
          ? Effect.logWarning("cluster still failing", { cluster: cluster.id, reason: e.reason })
          : tellFailing(e.reason).pipe(Effect.tap(() => Effect.sync(() => { reportedFailure = true })), Effect.ignore)),
      Effect.retry({ schedule: Schedule.min([Schedule.exponential(options.retryBase), Schedule.spaced(options.retryCap)]) }),
    )
  })

interface Decoded<D> { readonly message: BusMessage; readonly desired: D }

type Decoder<D> = (value: string) => { ok: true; desired: D } | { ok: false; reason: string }

/** The newest generation among the messages; the undecodable go to the DLQ, tombstones are skipped. */
const newestOf = <D extends { readonly generation: number }>(messages: KeyBatch, decode: Decoder<D>) =>
  Effect.gen(function* () {
    let newest: Decoded<D> | undefined
    const older: Decoded<D>[] = []
    for (const message of messages) {
      if (message.value === null) continue // tombstone: nothing left to do for that key
      const decoded = decode(message.value)
      if (!decoded.ok) {
        yield* sendToDeadLetters(message, decoded.reason)
        continue
      }
      // Ties go to the later offset (a redelivery by the outbox relay of what came before).
      if (newest !== undefined && decoded.desired.generation < newest.desired.generation) older.push({ message, desired: decoded.desired })
      else {
        if (newest !== undefined) older.push(newest)
        newest = { message, desired: decoded.desired }
      }
    }
    return { newest, older }
  })

const superseded = <D extends { readonly generation: number }>({ message, desired }: Decoded<D>, by: number) =>
  Effect.logInfo("desired state superseded by a newer generation; not reconciled on its own", {
    key: message.key, generation: desired.generation, newerGeneration: by, offset: message.offset,
  }).pipe(withRequestId(message.headers[requestIdHeader]))

/** How one kind of desired state (a project's, a resource's) is handled. */
export interface DesiredKind<D extends { readonly generation: number }, E, R> {
  readonly decode: Decoder<D>
  /** The lock the entity's work takes (drift leaves it alone meanwhile). */
  readonly lockKey: (d: D) => string
  /** What this daemon already knows of the entity from the topic. */
  readonly known: (d: D) => D | undefined
  /** Records the desired state as this daemon's to bring about (what drift repair pushes toward). */
  readonly takeOn: (d: D) => void
  /** Reconciles and reports. */
  readonly handle: (message: BusMessage, d: D) => Effect.Effect<unknown, E, R>
}

/**
 * Handles the queued messages of ONE key (the bus hands them over together). Desired state is
 * level-based: the newest generation says all there is to do, so older ones in the batch (or older
 * than what this daemon already knows from the topic) are superseded and only logged. The entity
 * is locked meanwhile, so drift repair never acts on it while its change is under way.
 */
export const handleNewest = <D extends { readonly generation: number }, E, R>(messages: KeyBatch, kind: DesiredKind<D, E, R>, locks: KeyedLock) =>
  Effect.gen(function* () {
    const { newest, older } = yield* newestOf(messages, kind.decode)
    if (newest === undefined) return
    for (const d of older) yield* superseded(d, newest.desired.generation)
    yield* locks.withLock(kind.lockKey(newest.desired))(
      Effect.suspend(() => {
        // Known from the topic already (read at start, or taken on): this message is an older copy.
        const known = kind.known(newest.desired)
        if (known !== undefined && known.generation > newest.desired.generation) return superseded(newest, known.generation)
        // Taken on before the cluster is touched, not once the report is out: a handling that
        // changed the cluster but could not publish (the broker down) is tried again later, with
        // the lock free in between, and a drift pass in that gap must push toward this generation.
        // Knowing only the older one, it would create again what this deletion removed.
        kind.takeOn(newest.desired)
        return kind.handle(newest.message, newest.desired)
      }),
    )
  })

