// Handling desired-state messages: make the cluster match the newest generation of a project,
// publish what it observed to fabric.status, and only then return (the bus commits after that).
// A crash anywhere before the commit replays the messages; ensure/delete are idempotent, so the
// replay duplicates nothing.
import { Effect } from "effect"
import type { DesiredNamespace } from "../domain/messages.ts"
import { Cluster } from "../services/cluster.ts"
import { crashPoint } from "../services/crash-points.ts"
import type { BusMessage, KeyBatch } from "../services/event-bus.ts"
import { Metrics } from "../services/metrics.ts"
import { requestIdHeader, withRequestId } from "../services/request-id.ts"
import { parentFrom } from "../services/trace-context.ts"
import { reconciles } from "./daemon-metrics.ts"
import { decodeDesired, managedNamespaceOf, type DesiredState } from "./desired-state.ts"
import type { KeyedLock } from "./keyed-lock.ts"
import { conflictReason, observe } from "./observe.ts"
import { deleteProjectObjects } from "./handle-resource.ts"
import { handleNewest, untilGone, untilSettled, type HandlingOptions } from "./reconciling.ts"

export type { HandlingOptions } from "./reconciling.ts"

/** Brings one namespace to its desired state; resolves with what the cluster now shows. */
const reconcile = (desired: DesiredNamespace, options: HandlingOptions, state: DesiredState) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const ns = managedNamespaceOf(desired)
    if (!desired.deleted) {
      const result = yield* cluster.ensureNamespace(ns)
      yield* Effect.logInfo("namespace ensured", { namespace: ns.name, result })
      return { phase: "Ready" as const, reason: undefined }
    }
    // The project's resources go first, each confirmed gone (and reported), then the namespace.
    yield* deleteProjectObjects(desired.projectId, state, options)
    // Deleted means really gone: follow Terminating (the namespace controller's finalizers) until
    // it is over. Each look is one call; the sleeps in between hold no apiserver permit, and back
    // off so that many deletions at once do not spend the client's rate limit on looking.
    yield* untilGone(() => cluster.deleteNamespace(ns), options)
    return { phase: "Deleted" as const, reason: undefined }
  }).pipe(
    // A foreign namespace with our name is never adopted: report it and leave it untouched.
    Effect.catchTag("NamespaceConflict", () => Effect.succeed({ phase: "Failed" as const, reason: conflictReason(desired.namespace) })),
  )

/**
 * Reconciles one desired state and reports it. Its log lines (the cluster adapter's included)
 * carry the request id of the RPC call that caused the change.
 */
const handleDesired = (message: BusMessage, desired: DesiredNamespace, options: HandlingOptions, state: DesiredState) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const metrics = yield* Metrics
    const requestId = message.headers[requestIdHeader]
    const outcome = yield* untilSettled(
      reconcile(desired, options, state),
      (reason) => ({ phase: "Failed" as const, reason }),
      (reason) => observe(desired, cluster.id, "Failed", reason, requestId),
      options,
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

/** Handles the queued messages of ONE project (see handleNewest). */
export const handleDesiredBatch = (messages: KeyBatch, options: HandlingOptions, state: DesiredState, projects: KeyedLock) =>
  handleNewest(messages, {
    decode: decodeDesired,
    lockKey: (d) => d.projectId,
    known: (d) => state.get(d.projectId),
    takeOn: (d) => state.apply(d),
    handle: (message, d) => handleDesired(message, d, options, state).pipe(
      // A Failed report waits for the drift check to see the cluster as it should be.
      Effect.tap((phase) => Effect.sync(() => {
        if (phase === "Failed") state.unsettled.add(d.projectId)
        else state.unsettled.delete(d.projectId)
      })),
    ),
  }, projects)
