// The per-cluster daemon (seed flow 3): consume the desired state of every project and resource
// from fabric.projects and fabric.resources in this cluster's OWN consumer group (broadcast; a
// new cluster backfills from the beginning of the compacted topics), make the cluster match,
// publish what it observed to fabric.status, and only then let the bus commit the offset
// (./handle-desired.ts, ./handle-resource.ts). Which catalogued kinds the cluster serves is asked
// of its API discovery at start and at every drift pass, so a kind installed later is picked up.
//
// Projects are worked on in parallel, each in strict order: the bus hands over one project's
// messages at a time, in offset order, up to `concurrency` projects at once; a per-project lock
// keeps drift repair off a project whose change is under way; and at most `concurrency` apiserver
// calls are in flight, a permit held only for the call itself. So a deletion that waits for its
// namespace to be gone, or a project waiting out an outage, holds only its own project.
import { Clock, Effect, Schedule } from "effect"
import type { ClusterId } from "../domain/cluster.ts"
import { encodeJson, topics, type ClusterSignal } from "../domain/messages.ts"
import { daemonGroup } from "../domain/topics.ts"
import { Cluster } from "../services/cluster.ts"
import { EventBus, type KeyBatch } from "../services/event-bus.ts"
import { followTopic } from "../services/follow-topic.ts"
import { boundCalls } from "./call-bound.ts"
import { defaultDaemonConcurrency, projectLanes } from "./concurrency.ts"
import { decodeDesired, decodeDesiredResource, DesiredState } from "./desired-state.ts"
import { repairDrift, type DriftOptions } from "./drift.ts"
import { handleDesiredBatch, type HandlingOptions } from "./handle-desired.ts"
import { handleResourceBatch } from "./handle-resource.ts"
import { KeyedLock } from "./keyed-lock.ts"
import { repairObjectDrift } from "./object-drift.ts"
import { discoverKinds, ServedKinds } from "./served-kinds.ts"

export interface DaemonOptions extends HandlingOptions {
  /** How often to tell management this cluster is alive. */
  readonly heartbeatMs: number
  /** How often to look for namespaces that should exist and do not. */
  readonly driftIntervalMs: number
  /** Apiserver calls in flight at once (FABRIC_DAEMON_CONCURRENCY); 16 times as many projects are followed at once. */
  readonly concurrency: number
}

export const defaultDaemonOptions: DaemonOptions = {
  retryBase: "200 millis", retryCap: "30 seconds", deletionPollMs: 250, heartbeatMs: 10_000, driftIntervalMs: 60_000, concurrency: defaultDaemonConcurrency,
}

const announce = (clusterId: ClusterId, kind: ClusterSignal["kind"], more: Pick<ClusterSignal, "kinds" | "since"> = {}) =>
  Effect.gen(function* () {
    const signal: ClusterSignal = { clusterId, kind, at: new Date(yield* Clock.currentTimeMillis).toISOString(), ...more }
    yield* (yield* EventBus).publish(topics.clusters, [{ key: clusterId, value: encodeJson(signal) }])
  })

const runBounded = (options: DaemonOptions) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const bus = yield* EventBus
    const since = new Date(yield* Clock.currentTimeMillis).toISOString()
    const desired = new DesiredState()
    // Projects and resources (their ids never collide): a key's work and drift exclude each other.
    const projects = new KeyedLock()
    const served = new ServedKinds()
    // A broker that is still starting (or a topic whose leaders are being elected) is worth
    // waiting for at start: give it about a minute before giving up.
    const startupRetry = Schedule.max([Schedule.min([Schedule.exponential("200 millis"), Schedule.spaced("5 seconds")]), Schedule.recurs(15)])
    const everything = yield* bus.readAll(topics.projects, daemonGroup(cluster.id)).pipe(
      Effect.tapError((e) => Effect.logWarning("cannot read the desired state yet; retrying", { cluster: cluster.id, reason: e.reason })),
      Effect.retry(startupRetry),
    )
    for (const message of everything) {
      const decoded = message.value === null ? undefined : decodeDesired(message.value)
      if (decoded?.ok) desired.apply(decoded.desired)
    }
    yield* announce(cluster.id, "joined", { since }).pipe(Effect.retry(startupRetry))
    yield* Effect.addFinalizer(() => announce(cluster.id, "left").pipe(Effect.ignore))
    // After the join (as before resources: a join is as quick to arrive as it always was).
    for (const message of yield* bus.readAll(topics.resources, daemonGroup(cluster.id)).pipe(Effect.retry(startupRetry))) {
      const decoded = message.value === null ? undefined : decodeDesiredResource(message.value)
      if (decoded?.ok) desired.applyResource(decoded.desired)
    }
    // Not fatal: until discovery answers, a resource's handling asks again first.
    yield* discoverKinds(served).pipe(Effect.catch((e) => Effect.logWarning("kinds not discovered yet", { cluster: cluster.id, reason: e.reason })))
    // Heartbeats run on their own fiber and touch neither the project locks nor the apiserver
    // permits, so no amount of handling delays them.
    yield* Effect.forkScoped(
      // Each heartbeat says which catalogued kinds the cluster serves (API discovery's last answer).
      Effect.suspend(() => {
        const kinds = served.list()
        return announce(cluster.id, "heartbeat", kinds === undefined ? {} : { kinds })
      }).pipe(
        Effect.catch((e) => Effect.logWarning("heartbeat not sent", { cluster: cluster.id, reason: e.reason })),
        Effect.repeat(Schedule.spaced(options.heartbeatMs)),
      ),
    )
    // Namespaces first, then the objects in them; discovery first, so a kind installed since is
    // seen (the resync at start skips it when the discovery just above answered).
    const drift = (drift: DriftOptions, discover: boolean) =>
      Effect.gen(function* () {
        yield* repairDrift(desired, projects, drift)
        if (discover) yield* discoverKinds(served)
        yield* repairObjectDrift(desired, projects, served, { ...drift, ...options })
      })
    yield* Effect.forkScoped(
      drift({ reportPresent: true, repair: false, concurrency: options.concurrency }, !served.discovered).pipe(
        Effect.catch((e) => Effect.logWarning("resync skipped: the cluster could not be listed", { cluster: cluster.id, reason: e.reason })),
        Effect.annotateLogs("cluster", cluster.id),
      ),
    )
    const handle = (messages: KeyBatch) =>
      messages[0].topic === topics.resources
        ? handleResourceBatch(messages, options, desired, served, projects)
        : handleDesiredBatch(messages, options, desired, projects)
    // Desired state is level-based: of a key's queued messages only the newest generation
    // needs reconciling, the older ones are superseded (handleNewest says so in the log).
    yield* followTopic({
      group: daemonGroup(cluster.id),
      topics: [topics.projects, topics.resources],
      concurrency: projectLanes(options.concurrency),
      handle: (messages) => handle(messages).pipe(Effect.annotateLogs("cluster", cluster.id)),
    })
    yield* Effect.forkScoped(
      drift({ reportPresent: false, repair: true, concurrency: options.concurrency }, true).pipe(
        Effect.annotateLogs("cluster", cluster.id),
        Effect.catch((e) => Effect.logWarning("drift check skipped: the cluster could not be reached", { cluster: cluster.id, reason: e.reason })),
        Effect.repeat(Schedule.spaced(options.driftIntervalMs)),
        Effect.delay(options.driftIntervalMs),
      ),
    )
    yield* Effect.logInfo("daemon started", { cluster: cluster.id, desired: desired.live().length, concurrency: options.concurrency })
  })

/** Runs the daemon for the provided Cluster until the scope closes. */
export const runDaemon = (options: DaemonOptions = defaultDaemonOptions) =>
  Effect.gen(function* () {
    const cluster = boundCalls(yield* Cluster, options.concurrency)
    yield* runBounded(options).pipe(Effect.provideService(Cluster, cluster))
  })
