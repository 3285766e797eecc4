// Handling a resource's desired state (fabric.resources): make its object in the project's
// namespace match the newest generation, publish what the cluster shows (Ready with the object's
// conditions, Failed with the apiserver's reason, Unavailable when the cluster does not serve the
// kind, Deleted once really gone) to fabric.status, and only then return (the bus commits after).
// Like a namespace's handling: idempotent, so a crash before the commit replays harmlessly.
import { Effect, Schedule } from "effect"
import type { DesiredResource } from "../domain/messages.ts"
import type { ResourceCondition } from "../domain/resource.ts"
import { Cluster } from "../services/cluster.ts"
import { crashPoint } from "../services/crash-points.ts"
import type { BusMessage, KeyBatch } from "../services/event-bus.ts"
import { KindCatalogue } from "../services/kind-catalogue.ts"
import { Metrics } from "../services/metrics.ts"
import { requestIdHeader, withRequestId } from "../services/request-id.ts"
import { parentFrom } from "../services/trace-context.ts"
import { reconciles } from "./daemon-metrics.ts"
import { decodeDesiredResource, managedObjectOf, type DesiredState } from "./desired-state.ts"
import type { KeyedLock } from "./keyed-lock.ts"
import { objectConflictReason, observeResource, unservedReason } from "./observe.ts"
import { handleNewest, untilGone, untilSettled, type HandlingOptions } from "./reconciling.ts"
import { discoverKinds, type ServedKinds } from "./served-kinds.ts"

/** What the cluster shows of a resource's object, as reported; `skip` when there is nothing to report. */
export type ObjectOutcome =
  | { readonly phase: "Ready"; readonly conditions: ReadonlyArray<ResourceCondition>; readonly reason?: string }
  | { readonly phase: "Failed" | "Unavailable" | "Deleted"; readonly reason?: string }
  | { readonly phase: "skip"; readonly why: string }

const catalogueMiss = (kind: string): ObjectOutcome => ({ phase: "Unavailable", reason: `kind ${kind} is not in this daemon's catalogue (deploy/crds)` })

/**
 * Brings one resource's object to its desired state. A missing namespace is waited for (the
 * project's own message makes it; drift does not wait), unless the project is being deleted:
 * then there is nothing to apply, and its deletion reports the resource.
 */
export const reconcileResource = (desired: DesiredResource, options: HandlingOptions, state: DesiredState, served: ServedKinds, waitForNamespace = true) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const kind = (yield* KindCatalogue).find(desired.kind)
    // A kind this daemon does not know was never applied by it: there is nothing here to delete.
    if (kind === undefined) return desired.deleted ? ({ phase: "Deleted" } as const) : catalogueMiss(desired.kind)
    const object = managedObjectOf(desired, kind)
    if (desired.deleted) {
      yield* untilGone(() => cluster.deleteObject(object), options)
      return { phase: "Deleted" } as const
    }
    if (state.get(desired.projectId)?.deleted) return { phase: "skip", why: "its project is being deleted" } as const
    // Before the first discovery (the apiserver was down at start) nothing is known to be unserved.
    if (!served.discovered) yield* discoverKinds(served)
    if (!served.has(kind.kind)) return { phase: "Unavailable", reason: unservedReason(`${kind.apiVersion} ${kind.kind}`) } as const
    const status = yield* cluster.applyObject(object).pipe(
      // Not an outage: the project's namespace comes with its own message. Waited for quietly,
      // unless the project is deleted meanwhile.
      Effect.retry({ while: (e) => e._tag === "NamespaceMissing" && waitForNamespace && !state.get(desired.projectId)?.deleted, schedule: Schedule.spaced(options.deletionPollMs) }),
      Effect.catchTag("NamespaceMissing", () => Effect.succeed(undefined)),
    )
    if (status === undefined) return { phase: "skip", why: "its project's namespace is not there" } as const
    yield* Effect.logInfo("object applied", { kind: kind.kind, namespace: object.namespace, name: object.name, objectGeneration: status.objectGeneration })
    return { phase: "Ready", conditions: status.conditions } as const
  }).pipe(
    // A foreign object with our name is never adopted: report it and leave it untouched.
    Effect.catchTag("ObjectConflict", (e) => Effect.succeed({ phase: "Failed", reason: objectConflictReason(e.kind, e.namespace, e.name) } as const)),
    // Its CRD went away since discovery: Unavailable until the kind is served again.
    Effect.catchTag("KindNotServed", (e) => Effect.sync(() => {
      served.forget(desired.kind)
      return { phase: "Unavailable", reason: unservedReason(e.kind) } as const
    })),
  )

/** Reports an outcome (nothing for `skip`), and remembers what it said. */
export const reportObject = (desired: DesiredResource, outcome: ObjectOutcome, served: ServedKinds, requestId: string | undefined) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    if (outcome.phase === "skip") return yield* Effect.logInfo("resource not applied", { resourceId: desired.resourceId, why: outcome.why })
    if (outcome.phase === "Ready") served.conditionsChanged(desired.resourceId, outcome.conditions)
    if (outcome.phase === "Unavailable") served.firstUnavailable(desired.resourceId, desired.generation)
    if (outcome.phase === "Deleted") served.forgetResource(desired.resourceId)
    yield* observeResource(desired, cluster.id, outcome.phase, {
      reason: outcome.reason, ...(outcome.phase === "Ready" ? { conditions: outcome.conditions } : {}),
    }, requestId)
  })

const handleResource = (message: BusMessage, desired: DesiredResource, options: HandlingOptions, state: DesiredState, served: ServedKinds) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const requestId = message.headers[requestIdHeader]
    const outcome = yield* untilSettled(
      reconcileResource(desired, options, state, served),
      (reason): ObjectOutcome => ({ phase: "Failed", reason }),
      (reason) => observeResource(desired, cluster.id, "Failed", { reason }, requestId),
      options,
    )
    yield* crashPoint("daemon.after-cluster-change")
    yield* reportObject(desired, outcome, served, requestId)
    yield* (yield* Metrics).increment(reconciles, { cluster: cluster.id })
    yield* crashPoint("daemon.after-status")
  }).pipe(
    Effect.withSpan("Daemon.handleResource", {
      kind: "consumer", attributes: { offset: message.offset, resourceId: desired.resourceId, projectId: desired.projectId, generation: desired.generation },
      ...parentFrom(message.headers),
    }),
    withRequestId(message.headers[requestIdHeader]),
  )

/** Handles the queued messages of ONE resource (see handleNewest); its lock is the resource id. */
export const handleResourceBatch = (messages: KeyBatch, options: HandlingOptions, state: DesiredState, served: ServedKinds, locks: KeyedLock) =>
  handleNewest(messages, {
    decode: decodeDesiredResource,
    lockKey: (d) => d.resourceId,
    known: (d) => state.resource(d.resourceId),
    takeOn: (d) => state.applyResource(d),
    handle: (message, d) => handleResource(message, d, options, state, served),
  }, locks)

/**
 * A project's deletion, before its namespace: every object of its resources deleted and confirmed
 * gone, and reported Deleted for each resource whose deletion this daemon knows of (the others are
 * reported when their deletion arrives, finding the object gone).
 */
export const deleteProjectObjects = (projectId: string, state: DesiredState, options: HandlingOptions) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const catalogue = yield* KindCatalogue
    for (const desired of state.resources(projectId)) {
      const kind = catalogue.find(desired.kind)
      if (kind === undefined) continue
      yield* untilGone(() => cluster.deleteObject(managedObjectOf(desired, kind)), options).pipe(
        // Someone else's object with the name is not ours to delete; the namespace takes it.
        Effect.catchTag("ObjectConflict", () => Effect.void),
      )
      if (desired.deleted) yield* observeResource(desired, cluster.id, "Deleted", {}, undefined)
    }
  })
