// The per-cluster daemon (seed flow 3): consume the desired state of every project from
// fabric.projects in this cluster's OWN consumer group (broadcast; a new cluster backfills from
// the beginning of the compacted topic), make the cluster match, publish what it observed to
// fabric.status, and only then let the bus commit the offset. A crash anywhere before the commit
// replays the message; ensure/delete are idempotent, so the replay duplicates nothing.
import { Clock, Effect, Schedule, Schema } from "effect"
import { ClusterSignal, DesiredNamespace, encodeJson, NamespaceObservation, topics } from "../domain/messages.ts"
import { Cluster, type ManagedNamespace } from "../services/cluster.ts"
import { crashPoint } from "../services/crash-points.ts"
import { EventBus, type BusMessage } from "../services/event-bus.ts"
import { requestIdHeader } from "../services/request-id.ts"
import { sendToDeadLetters } from "../management/dead-letters.ts"

export const daemonGroup = (clusterId: string) => `fabric.daemon.${clusterId}`

export interface DaemonOptions {
  /** Backoff between attempts while the cluster refuses or is unreachable. */
  readonly retryBase: string
  readonly retryCap: string
  /** How often to look again while a namespace is Terminating. */
  readonly deletionPollMs: number
  /** How often to tell management this cluster is alive. */
  readonly heartbeatMs: number
}

export const defaultDaemonOptions: DaemonOptions = { retryBase: "200 millis", retryCap: "30 seconds", deletionPollMs: 250, heartbeatMs: 10_000 }

const decodeDesired = Schema.decodeUnknownExit(Schema.fromJsonString(DesiredNamespace))

const observe = (desired: DesiredNamespace, clusterId: string, phase: NamespaceObservation["phase"], reason: string | undefined, requestId: string | undefined) =>
  Effect.gen(function* () {
    const observation: NamespaceObservation = {
      projectId: desired.projectId, clusterId, generation: desired.generation, phase,
      observedAt: new Date(yield* Clock.currentTimeMillis).toISOString(),
      ...(reason === undefined ? {} : { reason }),
    }
    yield* (yield* EventBus).publish(topics.status, [{
      key: desired.projectId, value: encodeJson(observation),
      headers: { "content-type": "application/json", ...(requestId ? { [requestIdHeader]: requestId } : {}) },
    }])
    yield* Effect.logInfo("observation published", { projectId: desired.projectId, clusterId, generation: desired.generation, phase, reason, requestId })
  })

/** Brings one namespace to its desired state; resolves with what the cluster now shows. */
const reconcile = (desired: DesiredNamespace, options: DaemonOptions) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const ns: ManagedNamespace = { name: desired.namespace, projectId: desired.projectId, accountId: desired.accountId, generation: desired.generation }
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
    Effect.catchTag("NamespaceConflict", () =>
      Effect.succeed({ phase: "Failed" as const, reason: `Conflict: namespace ${desired.namespace} exists without Fabric's labels` })),
  )

export const handleDesiredMessage = (message: BusMessage, options: DaemonOptions) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    if (message.value === null) return // tombstone: nothing left to do for that key
    const decoded = decodeDesired(message.value)
    if (decoded._tag === "Failure") return yield* sendToDeadLetters(message, `undecodable desired state: ${String(decoded.cause)}`)
    const desired = decoded.value
    const requestId = message.headers[requestIdHeader]
    let reportedFailure = false
    const outcome = yield* reconcile(desired, options).pipe(
      // Tell the management side once that this cluster is struggling, then keep trying.
      Effect.tapError((e) =>
        reportedFailure
          ? Effect.logWarning("cluster still failing", { cluster: cluster.id, reason: e.reason })
          : observe(desired, cluster.id, "Failed", e.reason, requestId).pipe(Effect.tap(() => Effect.sync(() => { reportedFailure = true })), Effect.ignore)),
      Effect.retry(Schedule.min([Schedule.exponential(options.retryBase as never), Schedule.spaced(options.retryCap as never)])),
    )
    yield* crashPoint("daemon.after-cluster-change")
    yield* observe(desired, cluster.id, outcome.phase, outcome.reason, requestId)
    yield* crashPoint("daemon.after-status")
  }).pipe(Effect.withSpan("Daemon.handleDesired", { attributes: { offset: message.offset } }))

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
    const context = yield* Effect.context<Cluster | EventBus>()
    yield* announce(cluster.id, "joined")
    yield* Effect.addFinalizer(() => announce(cluster.id, "left").pipe(Effect.ignore))
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
      handle: (message) => handleDesiredMessage(message, options).pipe(Effect.provideContext(context)),
    })
    yield* Effect.logInfo("daemon started", { cluster: cluster.id })
  })
