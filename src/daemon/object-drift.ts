// Drift repair for resources, after the namespaces' (./drift.ts) in the same pass and on the same
// rules: from a successful listing of Fabric's objects of each kind the cluster serves, an object
// that should exist but is gone (deleted by hand, or its kind installed only now) is applied again,
// one changed by hand is applied again (server-side apply takes Fabric's fields back), one whose
// resource is deleted is deleted; absence never causes a deletion, and a foreign object in the way
// is reported as a conflict and left alone. Conditions an operator wrote since the last report are
// reported. A kind the cluster does not serve: each of its resources is reported Unavailable once
// per generation, and looked at again when discovery finds the kind.
import { Effect } from "effect"
import type { Kind } from "../domain/kind.ts"
import type { DesiredResource } from "../domain/messages.ts"
import { jsonEqual } from "../domain/json.ts"
import { Cluster, type ListedObject } from "../services/cluster.ts"
import { KindCatalogue } from "../services/kind-catalogue.ts"
import { Metrics } from "../services/metrics.ts"
import { driftRepairs } from "./daemon-metrics.ts"
import { managedObjectOf, type DesiredState } from "./desired-state.ts"
import type { DriftOptions } from "./drift.ts"
import { reconcileResource, reportObject, type ObjectOutcome } from "./handle-resource.ts"
import type { KeyedLock } from "./keyed-lock.ts"
import { observeResource, refusalReason, unservedReason } from "./observe.ts"
import type { HandlingOptions } from "./reconciling.ts"
import type { ServedKinds } from "./served-kinds.ts"

const isInPlace = (o: ListedObject | undefined, d: DesiredResource): o is ListedObject =>
  o !== undefined && o.namespace === d.namespace && o.name === d.name && o.generation === d.generation && jsonEqual(o.spec, d.spec)

export const repairObjectDrift = (state: DesiredState, locks: KeyedLock, served: ServedKinds, options: DriftOptions & HandlingOptions) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const catalogue = yield* KindCatalogue
    const metrics = yield* Metrics
    let repaired = 0

    /** A resource whose project's namespace should exist here (so its object should too, or be gone). */
    const inLiveProject = (d: DesiredResource) => state.get(d.projectId)?.deleted === false

    const unserved = (kind: Kind, resources: ReadonlyArray<DesiredResource>) =>
      Effect.forEach(resources, (d) =>
        !d.deleted && inLiveProject(d) && served.firstUnavailable(d.resourceId, d.generation)
          ? observeResource(d, cluster.id, "Unavailable", { reason: unservedReason(`${kind.apiVersion} ${kind.kind}`) }, undefined)
          : Effect.void, { discard: true })

    const keepPresent = (d: DesiredResource, listed: ListedObject | undefined) =>
      Effect.gen(function* () {
        if (!inLiveProject(d)) return
        if (isInPlace(listed, d)) {
          if (options.reportPresent || served.conditionsChanged(d.resourceId, listed.conditions)) {
            yield* reportObject(d, { phase: "Ready", conditions: listed.conditions }, served, undefined)
          }
          return
        }
        if (!options.repair) return
        // Its kind was not served when it was last looked at: applying it now is no repair.
        const why = listed !== undefined ? "the object had been changed by hand and has been applied again"
          : served.wasUnavailable(d.resourceId) ? undefined : "the object was missing and has been applied again"
        const outcome: ObjectOutcome = yield* reconcileResource(d, options, state, served, false).pipe(
          Effect.catchTag("ClusterRefused", (e) => Effect.succeed({ phase: "Failed", reason: refusalReason(e.reason) } as const)),
        )
        if (outcome.phase === "Ready" && why !== undefined) {
          repaired++
          yield* metrics.increment(driftRepairs, { cluster: cluster.id })
          yield* Effect.logWarning(`drift repaired: ${why}`, { cluster: cluster.id, kind: d.kind, namespace: d.namespace, name: d.name })
        }
        yield* reportObject(d, outcome.phase === "Ready" && why !== undefined ? { ...outcome, reason: `repaired: ${why}` } : outcome, served, undefined)
      })

    const keepGone = (d: DesiredResource, listed: ListedObject | undefined, kind: Kind) =>
      Effect.gen(function* () {
        if (listed === undefined) {
          if (state.unsettled.delete(d.resourceId)) yield* reportObject(d, { phase: "Deleted" }, served, undefined)
          return
        }
        if (!options.repair) return
        const result = yield* cluster.deleteObject(managedObjectOf(d, kind)).pipe(
          Effect.catchTag("ObjectConflict", () => Effect.succeed("conflict" as const)),
          Effect.catchTag("ClusterRefused", (e) => reportObject(d, { phase: "Failed", reason: refusalReason(e.reason) }, served, undefined).pipe(Effect.as("refused" as const))),
        )
        if (result === "deleting") state.unsettled.add(d.resourceId)
        if (result === "absent") yield* reportObject(d, { phase: "Deleted" }, served, undefined)
      })

    for (const kind of catalogue.kinds) {
      const ofKind = state.resources().filter((r) => r.kind === kind.kind)
      if (ofKind.length === 0) continue
      if (!served.has(kind.kind)) {
        yield* unserved(kind, ofKind)
        continue
      }
      const listing = yield* cluster.listManagedObjects(kind).pipe(
        Effect.catchTag("KindNotServed", () => Effect.sync(() => served.forget(kind.kind)).pipe(Effect.as(undefined))),
      )
      if (listing === undefined) {
        yield* unserved(kind, ofKind)
        continue
      }
      const present = new Map(listing.map((o) => [o.resourceId, o]))
      yield* Effect.forEach(ofKind, ({ resourceId }) =>
        locks.ifFree(resourceId)(Effect.suspend(() => {
          // Read under the lock: the newest state a handler finished with, not the one at listing.
          const d = state.resource(resourceId)
          if (d === undefined) return Effect.void
          return d.deleted ? keepGone(d, present.get(resourceId), kind) : keepPresent(d, present.get(resourceId))
        })), { concurrency: options.concurrency, discard: true })
    }
    return repaired
  }).pipe(Effect.withSpan("Daemon.repairObjectDrift"))
