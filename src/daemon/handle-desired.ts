// Handling desired-state messages: make the cluster match the newest generation of a project,
// publish what it observed to fabric.status, and only then return (the bus commits after that).
// A crash anywhere before the commit replays the messages; ensure/delete are idempotent, so the
// replay duplicates nothing.
import { type Duration, Effect, Schedule } from "effect"
import type { DesiredNamespace } from "../domain/messages.ts"
import { sendToDeadLetters } from "../services/dead-letters.ts"
import { Cluster } from "../services/cluster.ts"
import { crashPoint } from "../services/crash-points.ts"
import type { BusMessage, KeyBatch } from "../services/event-bus.ts"
import { Metrics } from "../services/metrics.ts"
import { requestIdHeader, withRequestId } from "../services/request-id.ts"
import { parentFrom } from "../services/trace-context.ts"
import { reconcileErrors, reconciles } from "./daemon-metrics.ts"
import { decodeDesired, managedNamespaceOf, type DesiredState } from "./desired-state.ts"
import type { KeyedLock } from "./keyed-lock.ts"
import { conflictReason, observe, refusalReason } from "./observe.ts"

export interface HandlingOptions {
  /** Backoff between attempts while the cluster is unreachable (refusals are not retried here). */
  readonly retryBase: Duration.Input
  readonly retryCap: Duration.Input
  /** First wait before looking again at a Terminating namespace; later waits double, up to 8 times it. */
  readonly deletionPollMs: number
}

/** Brings one namespace to its desired state; resolves with what the cluster now shows. */
const reconcile = (desired: DesiredNamespace, options: HandlingOptions) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const ns = managedNamespaceOf(desired)
    if (!desired.deleted) {
      const result = yield* cluster.ensureNamespace(ns)
      yield* Effect.logInfo("namespace ensured", { namespace: ns.name, result })
      return { phase: "Ready" as const, reason: undefined }
    }
    // Deleted means really gone: follow Terminating (the namespace controller's finalizers) until
    // it is over. Each look is one call; the sleeps in between hold no apiserver permit, and back
    // off so that many deletions at once do not spend the client's rate limit on looking.
    for (let wait = options.deletionPollMs; (yield* cluster.deleteNamespace(ns)) === "deleting"; wait = Math.min(wait * 2, options.deletionPollMs * 8)) {
      yield* Effect.sleep(wait)
    }
    return { phase: "Deleted" as const, reason: undefined }
  }).pipe(
    // A foreign namespace with our name is never adopted: report it and leave it untouched.
    Effect.catchTag("NamespaceConflict", () => Effect.succeed({ phase: "Failed" as const, reason: conflictReason(desired.namespace) })),
  )

/**
 * Reconciles one desired state and reports it. Its log lines (the cluster adapter's included)
 * carry the request id of the RPC call that caused the change.
 */
const handleDesired = (message: BusMessage, desired: DesiredNamespace, options: HandlingOptions) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const metrics = yield* Metrics
    const requestId = message.headers[requestIdHeader]
    let reportedFailure = false
    const outcome = yield* reconcile(desired, options).pipe(
      Effect.tapError(() => metrics.increment(reconcileErrors, { cluster: cluster.id })),
      // Tell the management side once that this cluster is struggling, then keep trying.
      // A refusal is not retried here and must not hold the project's later changes: it is
      // reported Failed, and the drift check tries it again later.
      Effect.catchTag("ClusterRefused", (e) => Effect.succeed({ phase: "Failed" as const, reason: refusalReason(e.reason) })),
      // An outage passes, so this project waits for it (its order kept; other projects go on),
      // telling the management side once that this cluster is struggling.
      Effect.tapError((e) =>
        reportedFailure
          ? Effect.logWarning("cluster still failing", { cluster: cluster.id, reason: e.reason })
          : observe(desired, cluster.id, "Failed", e.reason, requestId).pipe(Effect.tap(() => Effect.sync(() => { reportedFailure = true })), Effect.ignore)),
      Effect.retry({ schedule: Schedule.min([Schedule.exponential(options.retryBase), Schedule.spaced(options.retryCap)]) }),
    )
    yield* crashPoint("daemon.after-cluster-change")
    yield* observe(desired, cluster.id, outcome.phase, outcome.reason, requestId)
    yield* metrics.increment(reconciles, { cluster: cluster.id })
    yield* crashPoint("daemon.after-status")
    return outcome.phase
  }).pipe(
    // Continues the trace of the request that changed the project (the message's traceparent).
    Effect.withSpan("Daemon.handleDesired", { kind: "consumer", attributes: { offset: message.offset, projectId: desired.projectId, generation: desired.generation }, ...parentFrom(message.headers) }),
    withRequestId(message.headers[requestIdHeader]),
  )

interface Decoded { readonly message: BusMessage; readonly desired: DesiredNamespace }

/** The newest generation among the messages; the undecodable go to the DLQ, tombstones are skipped. */
const newestOf = (messages: KeyBatch) =>
  Effect.gen(function* () {
    let newest: Decoded | undefined
    const older: Decoded[] = []
    for (const message of messages) {
      if (message.value === null) continue // tombstone: nothing left to do for that key
      const decoded = decodeDesired(message.value)
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

const superseded = ({ message, desired }: Decoded, by: number) =>
  Effect.logInfo("desired state superseded by a newer generation; not reconciled on its own", {
    projectId: desired.projectId, generation: desired.generation, newerGeneration: by, offset: message.offset,
  }).pipe(withRequestId(message.headers[requestIdHeader]))

/**
 * Handles the queued messages of ONE project (the bus hands them over together). Desired state is
 * level-based: the newest generation says all there is to do, so older ones in the batch (or older
 * than what this daemon already knows from the topic) are superseded and only logged. The project
 * is locked meanwhile, so drift repair never acts on it while its change is under way.
 */
export const handleDesiredBatch = (messages: KeyBatch, options: HandlingOptions, state: DesiredState, projects: KeyedLock) =>
  Effect.gen(function* () {
    const { newest, older } = yield* newestOf(messages)
    if (newest === undefined) return
    for (const d of older) yield* superseded(d, newest.desired.generation)
    yield* projects.withLock(newest.desired.projectId)(
      Effect.suspend(() => {
        // Known from the topic already (read at start, or taken on): this message is an older copy.
        const known = state.get(newest.desired.projectId)
        if (known !== undefined && known.generation > newest.desired.generation) return superseded(newest, known.generation)
        // Taken on before the cluster is touched, not once the report is out: a handling that
        // changed the cluster but could not publish (the broker down) is tried again later, with
        // the lock free in between, and a drift pass in that gap must push toward this generation.
        // Knowing only the older one, it would create again the namespace this deletion removed.
        state.apply(newest.desired)
        return handleDesired(newest.message, newest.desired, options).pipe(
          // A Failed report waits for the drift check to see the cluster as it should be.
          Effect.tap((phase) => Effect.sync(() => {
            if (phase === "Failed") state.unsettled.add(newest.desired.projectId)
            else state.unsettled.delete(newest.desired.projectId)
          })),
        )
      }),
    )
  })
