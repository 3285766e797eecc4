// The simulated in-process cluster: the Cluster service over a SimulatedClusterState, applying
// what a real apiserver (plus its namespace controller) applies: DNS-1123 names, AlreadyExists /
// NotFound, deletion through a Terminating phase. Used by `fabric dev` and the embedded tests; the
// contract suite holds it to the same behaviour as the live layer. Web-standard only.
import { Clock, Effect, Layer } from "effect"
import { ClusterId } from "../../src/domain/cluster.ts"
import { Cluster, ClusterRefused, ClusterUnavailable, type ManagedNamespace } from "../../src/services/cluster.ts"
import { isManagedByFabric, managedMetadataFor, managedNamespaceFrom, requireOwned, requireValidName, stillTerminating } from "../namespace-rules.ts"
import { SimulatedClusterState } from "./simulated-cluster-state.ts"

export { SimulatedClusterState } from "./simulated-cluster-state.ts"
export type { SimulatedClusterSettings, SimulatedNamespace } from "./simulated-cluster-state.ts"

export interface SimulatedClusterOptions {
  readonly id: string
  /** Pass one to inspect the namespaces or turn the knobs (failing, latency) while running. */
  readonly state?: SimulatedClusterState
}

export const layer = (options: SimulatedClusterOptions) =>
  Layer.effect(
    Cluster,
    Effect.sync(() => {
      const cluster = ClusterId.make(options.id)
      const state = options.state ?? new SimulatedClusterState()

      // Every call pays the injected latency and may hit an injected outage, like a round trip.
      const roundTrip: Effect.Effect<number, ClusterUnavailable> = Effect.gen(function* () {
        if (state.latencyMs > 0) yield* Effect.sleep(state.latencyMs)
        if (state.takeFailure()) {
          return yield* new ClusterUnavailable({ cluster, reason: "simulated apiserver outage (injected failure)" })
        }
        return yield* Clock.currentTimeMillis
      })

      const outage = (name: string) => {
        const reason = state.outageOf(name)
        return reason === undefined ? Effect.void : Effect.fail(new ClusterUnavailable({ cluster, reason: `InternalError: ${reason}` }))
      }

      const refusal = (name: string) => {
        const reason = state.refusalOf(name)
        return reason === undefined ? Effect.void : Effect.fail(new ClusterRefused({ cluster, reason: `Forbidden: ${reason}` }))
      }

      const ensureNamespace = Effect.fn("Cluster.ensureNamespace")(function* (ns: ManagedNamespace) {
        yield* requireValidName(ns.name)
        const now = yield* roundTrip
        yield* outage(ns.name)
        yield* refusal(ns.name)
        const existing = state.lookup(ns.name, now)
        if (!existing) {
          state.create(ns.name, managedMetadataFor(ns), now)
          return "created" as const
        }
        yield* requireOwned(cluster, ns, existing.labels)
        if (existing.goneAt !== undefined) return yield* stillTerminating(cluster, ns.name)
        return "unchanged" as const
      })

      const deleteNamespace = Effect.fn("Cluster.deleteNamespace")(function* (ns: ManagedNamespace) {
        yield* requireValidName(ns.name)
        const now = yield* roundTrip
        yield* outage(ns.name)
        const existing = state.lookup(ns.name, now)
        if (!existing) return "absent" as const
        yield* requireOwned(cluster, ns, existing.labels)
        yield* refusal(ns.name)
        state.delete(ns.name, now)
        return "deleting" as const
      })

      const listManaged = Effect.fn("Cluster.listManaged")(function* () {
        const now = yield* roundTrip
        return state
          .list(now)
          .filter((ns) => isManagedByFabric(ns.labels))
          .map((ns) => managedNamespaceFrom(ns.name, ns.labels, ns.annotations))
      })

      return Cluster.of({ id: cluster, ensureNamespace, deleteNamespace, listManaged })
    }),
  )
