// Drift repair: a namespace that should exist but is gone (deleted by hand) is created again and
// the repair reported. It never deletes anything, so a failed or empty listing cannot cause a
// deletion; a foreign namespace in the way is reported as a conflict and left untouched.
import { Effect } from "effect"
import { Cluster } from "../services/cluster.ts"
import { Metrics } from "../services/metrics.ts"
import { driftRepairs } from "./daemon-metrics.ts"
import type { DesiredState } from "./desired-state.ts"
import { observe } from "./observe.ts"

export interface DriftOptions {
  /**
   * Also report Ready for every namespace that is in place (a resync, at daemon start): after a
   * restart, reports the management side missed, or dropped while this cluster was not a member
   * (removed, then joined again), arrive again.
   */
  readonly reportPresent: boolean
  /** Create what is missing (off for the resync: a backfill creates through the subscription). */
  readonly repairMissing: boolean
}

export const repairDrift = (desired: DesiredState, options: DriftOptions = { reportPresent: false, repairMissing: true }) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const present = new Map((yield* cluster.listManaged()).map((ns) => [ns.name, ns.projectId]))
    let repaired = 0
    for (const d of desired.live()) {
      if (present.get(d.namespace) === d.projectId) {
        if (options.reportPresent) yield* observe(d, cluster.id, "Ready", undefined, undefined)
        continue
      }
      if (!options.repairMissing) continue
      const result = yield* cluster.ensureNamespace({ name: d.namespace, projectId: d.projectId, accountId: d.accountId, generation: d.generation }).pipe(
        Effect.catchTag("NamespaceConflict", () =>
          observe(d, cluster.id, "Failed", `Conflict: namespace ${d.namespace} exists without Fabric's labels`, undefined).pipe(Effect.as("conflict" as const))),
      )
      if (result === "created") {
        repaired++
        yield* (yield* Metrics).increment(driftRepairs, { cluster: cluster.id })
        yield* Effect.logWarning("drift repaired: namespace was missing and has been created again", { cluster: cluster.id, namespace: d.namespace })
        yield* observe(d, cluster.id, "Ready", "repaired: the namespace was missing and has been created again", undefined)
      }
    }
    return repaired
  }).pipe(Effect.withSpan("Daemon.repairDrift"))
