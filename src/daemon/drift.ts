// Drift repair, from a successful listing of the namespaces Fabric manages: a namespace that
// should exist but is gone (deleted by hand, or refused earlier) is created again and the repair
// reported; one whose project is deleted but is still there (its deletion was refused) is deleted.
// Absence never causes a deletion, so a failed or empty listing deletes nothing; a foreign
// namespace in the way is reported as a conflict and left untouched.
//
// Projects are checked several at once, each under its project lock and only if that lock is
// free: a project whose message is being handled is its handler's business (what drift knows of
// it is about to change, and its namespace may be on its way out), so it is left to the next pass.
import { Effect } from "effect"
import type { DesiredNamespace } from "../domain/messages.ts"
import { Cluster, type ClusterRefused } from "../services/cluster.ts"
import type { EventBus, EventBusUnavailable } from "../services/event-bus.ts"
import { Metrics } from "../services/metrics.ts"
import { driftRepairs } from "./daemon-metrics.ts"
import { managedNamespaceOf, type DesiredState } from "./desired-state.ts"
import type { KeyedLock } from "./keyed-lock.ts"
import { conflictReason, observe, refusalReason } from "./observe.ts"

export interface DriftOptions {
  /**
   * Also report Ready for every namespace that is in place (a resync, at daemon start): after a
   * restart, reports the management side missed, or dropped while this cluster was not a member
   * (removed, then joined again), arrive again.
   */
  readonly reportPresent: boolean
  /**
   * Create what is missing and delete what a deletion left behind (after a refusal). Off for the
   * resync: at start the subscription's backfill does that work.
   */
  readonly repair: boolean
  /** Projects checked at once (their apiserver calls share the daemon's bound). */
  readonly concurrency: number
}

export const repairDrift = (desired: DesiredState, projects: KeyedLock, options: DriftOptions) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const metrics = yield* Metrics
    const present = new Map((yield* cluster.listManaged()).map((ns) => [ns.name, ns.projectId]))
    // A refusal concerns one namespace: report it and go on with the others.
    const refused = (d: DesiredNamespace) => (e: ClusterRefused): Effect.Effect<"refused", EventBusUnavailable, EventBus> =>
      failed(d, refusalReason(e.reason)).pipe(Effect.as("refused" as const))
    const failed = (d: DesiredNamespace, reason: string) =>
      observe(d, cluster.id, "Failed", reason, undefined).pipe(Effect.tap(() => Effect.sync(() => desired.unsettled.add(d.projectId))))
    const settled = (d: DesiredNamespace, phase: "Ready" | "Deleted", reason: string | undefined) =>
      observe(d, cluster.id, phase, reason, undefined).pipe(Effect.tap(() => Effect.sync(() => desired.unsettled.delete(d.projectId))))
    let repaired = 0

    const keepPresent = (d: DesiredNamespace) =>
      Effect.gen(function* () {
        if (present.get(d.namespace) === d.projectId) {
          // in place, though the last report said Failed (a refusal that has passed): say Ready
          if (options.reportPresent || desired.unsettled.has(d.projectId)) yield* settled(d, "Ready", undefined)
          return
        }
        if (!options.repair) return
        const result = yield* cluster.ensureNamespace(managedNamespaceOf(d)).pipe(
          Effect.catchTag("NamespaceConflict", () => failed(d, conflictReason(d.namespace)).pipe(Effect.as("conflict" as const))),
          Effect.catchTag("ClusterRefused", refused(d)),
        )
        if (result === "created") {
          repaired++
          yield* metrics.increment(driftRepairs, { cluster: cluster.id })
          yield* Effect.logWarning("drift repaired: namespace was missing and has been created again", { cluster: cluster.id, namespace: d.namespace })
          yield* settled(d, "Ready", "repaired: the namespace was missing and has been created again")
        } else if (result === "unchanged" && desired.unsettled.has(d.projectId)) {
          yield* settled(d, "Ready", undefined) // it appeared between the listing and this call
        }
      })

    const keepGone = (d: DesiredNamespace) =>
      Effect.gen(function* () {
        if (present.get(d.namespace) !== d.projectId) {
          // gone, though the last report said Failed (a refused deletion, or one this check started)
          if (desired.unsettled.has(d.projectId)) yield* settled(d, "Deleted", undefined)
          return
        }
        if (!options.repair) return
        const result = yield* cluster.deleteNamespace(managedNamespaceOf(d)).pipe(
          Effect.catchTag("NamespaceConflict", () => Effect.succeed("conflict" as const)),
          Effect.catchTag("ClusterRefused", refused(d)),
        )
        if (result === "deleting") desired.unsettled.add(d.projectId)
        if (result === "absent") yield* settled(d, "Deleted", undefined)
      })

    yield* Effect.forEach(
      desired.projectIds(),
      (projectId) =>
        projects.ifFree(projectId)(
          Effect.suspend(() => {
            // Read under the lock: the newest state a handler finished with, not the one at listing.
            const d = desired.get(projectId)
            if (d === undefined) return Effect.void
            return d.deleted ? keepGone(d) : keepPresent(d)
          }),
        ),
      { concurrency: options.concurrency, discard: true },
    )
    return repaired
  }).pipe(Effect.withSpan("Daemon.repairDrift"))
