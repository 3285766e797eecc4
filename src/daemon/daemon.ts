// The per-cluster daemon (seed flow 3): consume the desired state of every project from
// fabric.projects in this cluster's OWN consumer group (broadcast; a new cluster backfills from
// the beginning of the compacted topic), make the cluster match, publish what it observed to
// fabric.status, and only then let the bus commit the offset. A crash anywhere before the commit
// replays the message; ensure/delete are idempotent, so the replay duplicates nothing.
import { Clock, Effect, Schedule, Semaphore } from "effect"
import { encodeJson, topics, type ClusterSignal, type DesiredNamespace } from "../domain/messages.ts"
import { Cluster } from "../services/cluster.ts"
import { crashPoint } from "../services/crash-points.ts"
import { EventBus, type BusMessage } from "../services/event-bus.ts"
import { Metrics } from "../services/metrics.ts"
import { requestIdHeader, withRequestId } from "../services/request-id.ts"
import { reconcileErrors, reconciles } from "./daemon-metrics.ts"
import { decodeDesired, DesiredState, managedNamespaceOf } from "./desired-state.ts"
import { repairDrift } from "./drift.ts"
import { conflictReason, observe, refusalReason } from "./observe.ts"
import { sendToDeadLetters } from "../management/dead-letters.ts"

export const daemonGroup = (clusterId: string) => `fabric.daemon.${clusterId}`

export interface DaemonOptions {
  /** Backoff between attempts while the cluster is unreachable (refusals are not retried here). */
  readonly retryBase: string
  readonly retryCap: string
  /** How often to look again while a namespace is Terminating. */
  readonly deletionPollMs: number
  /** How often to tell management this cluster is alive. */
  readonly heartbeatMs: number
  /** How often to look for namespaces that should exist and do not. */
  readonly driftIntervalMs: number
}

export const defaultDaemonOptions: DaemonOptions = { retryBase: "200 millis", retryCap: "30 seconds", deletionPollMs: 250, heartbeatMs: 10_000, driftIntervalMs: 60_000 }

/** Brings one namespace to its desired state; resolves with what the cluster now shows. */
const reconcile = (desired: DesiredNamespace, options: DaemonOptions) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const ns = managedNamespaceOf(desired)
    if (!desired.deleted) {
      const result = yield* cluster.ensureNamespace(ns)
      yield* Effect.logInfo("namespace ensured", { namespace: ns.name, result })
      return { phase: "Ready" as const, reason: undefined }
    }
    // Deleted means really gone: wait out Terminating (the namespace controller's finalizers).
    while ((yield* cluster.deleteNamespace(ns)) === "deleting") yield* Effect.sleep(options.deletionPollMs)
    return { phase: "Deleted" as const, reason: undefined }
  }).pipe(
    // A foreign namespace with our name is never adopted: report it and leave it untouched.
    Effect.catchTag("NamespaceConflict", () => Effect.succeed({ phase: "Failed" as const, reason: conflictReason(desired.namespace) })),
  )

/**
 * Handles one desired-state message; resolves with it once the cluster matches and that is
 * reported. Its log lines (the cluster adapter's included) carry the request id of the RPC call
 * that caused the change.
 */
export const handleDesiredMessage = (message: BusMessage, options: DaemonOptions) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const metrics = yield* Metrics
    if (message.value === null) return undefined // tombstone: nothing left to do for that key
    const decoded = decodeDesired(message.value)
    if (!decoded.ok) {
      yield* sendToDeadLetters(message, decoded.reason)
      return undefined
    }
    const desired = decoded.desired
    const requestId = message.headers[requestIdHeader]
    let reportedFailure = false
    const outcome = yield* reconcile(desired, options).pipe(
      Effect.tapError(() => metrics.increment(reconcileErrors, { cluster: cluster.id })),
      // Tell the management side once that this cluster is struggling, then keep trying.
      Effect.tapError((e) =>
        reportedFailure || e.refused
          ? Effect.logWarning("cluster still failing", { cluster: cluster.id, reason: e.reason })
          : observe(desired, cluster.id, "Failed", e.reason, requestId).pipe(Effect.tap(() => Effect.sync(() => { reportedFailure = true })), Effect.ignore)),
      Effect.retry({
        schedule: Schedule.min([Schedule.exponential(options.retryBase as never), Schedule.spaced(options.retryCap as never)]),
        // An outage passes, so the partition waits for it (order kept); a refusal does not, and
        // must not hold up the projects behind it: the drift check tries it again later.
        while: (e) => !e.refused,
      }),
      Effect.catchIf((e) => e.refused === true, (e) => Effect.succeed({ phase: "Failed" as const, reason: refusalReason(e.reason) })),
    )
    yield* crashPoint("daemon.after-cluster-change")
    yield* observe(desired, cluster.id, outcome.phase, outcome.reason, requestId)
    yield* metrics.increment(reconciles, { cluster: cluster.id })
    yield* crashPoint("daemon.after-status")
    return desired
  }).pipe(
    Effect.withSpan("Daemon.handleDesired", { attributes: { offset: message.offset } }),
    withRequestId(message.headers[requestIdHeader]),
  )

const announce = (clusterId: string, kind: ClusterSignal["kind"]) =>
  Effect.gen(function* () {
    const signal: ClusterSignal = { clusterId, kind, at: new Date(yield* Clock.currentTimeMillis).toISOString() }
    yield* (yield* EventBus).publish(topics.clusters, [{ key: clusterId, value: encodeJson(signal) }])
  })

/** Runs the daemon for the provided Cluster until the scope closes. */
export const runDaemon = (options: DaemonOptions = defaultDaemonOptions) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const bus = yield* EventBus
    const context = yield* Effect.context<Cluster | EventBus | Metrics>()
    // Handling a message and repairing drift never interleave: a repair must not re-create a
    // namespace whose deletion is being handled.
    const exclusive = yield* Semaphore.make(1)
    const desired = new DesiredState()
    // A broker that is still starting (or a topic whose leaders are being elected) is worth
    // waiting for at start: give it about a minute before giving up.
    const startupRetry = Schedule.max([Schedule.min([Schedule.exponential("200 millis"), Schedule.spaced("5 seconds")]), Schedule.recurs(15)])
    const everything = yield* bus.readAll(topics.projects).pipe(
      Effect.tapError((e) => Effect.logWarning("cannot read the desired state yet; retrying", { cluster: cluster.id, reason: e.reason })),
      Effect.retry(startupRetry),
    )
    for (const message of everything) {
      const decoded = message.value === null ? undefined : decodeDesired(message.value)
      if (decoded?.ok) desired.apply(decoded.desired)
    }
    yield* announce(cluster.id, "joined").pipe(Effect.retry(startupRetry))
    yield* Effect.addFinalizer(() => announce(cluster.id, "left").pipe(Effect.ignore))
    yield* Effect.forkScoped(
      repairDrift(desired, { reportPresent: true, repair: false }).pipe(
        exclusive.withPermits(1),
        Effect.catch((e) => Effect.logWarning("resync skipped: the cluster could not be listed", { cluster: cluster.id, reason: e.reason })),
        Effect.annotateLogs("cluster", cluster.id),
      ),
    )
    yield* Effect.forkScoped(
      announce(cluster.id, "heartbeat").pipe(
        Effect.catch((e) => Effect.logWarning("heartbeat not sent", { cluster: cluster.id, reason: e.reason })),
        Effect.repeat(Schedule.spaced(options.heartbeatMs)),
      ),
    )
    yield* bus.subscribe({
      group: daemonGroup(cluster.id),
      topics: [topics.projects],
      fromBeginning: true,
      handle: ([message]) =>
        handleDesiredMessage(message, options).pipe(
          Effect.tap((handled) => Effect.sync(() => handled && desired.apply(handled))),
          exclusive.withPermits(1),
          Effect.asVoid,
          Effect.annotateLogs("cluster", cluster.id),
          Effect.provideContext(context),
        ),
    })
    yield* Effect.forkScoped(
      repairDrift(desired).pipe(
        exclusive.withPermits(1),
        Effect.annotateLogs("cluster", cluster.id),
        Effect.catch((e) => Effect.logWarning("drift check skipped: the cluster could not be listed", { cluster: cluster.id, reason: e.reason })),
        Effect.repeat(Schedule.spaced(options.driftIntervalMs)),
        Effect.delay(options.driftIntervalMs),
      ),
    )
    yield* Effect.logInfo("daemon started", { cluster: cluster.id, desired: desired.live().length })
  })
