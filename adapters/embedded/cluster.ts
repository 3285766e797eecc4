// The simulated in-process cluster: the Cluster service over a SimulatedClusterState, applying
// what a real apiserver (plus its namespace controller) applies: DNS-1123 names, AlreadyExists /
// NotFound, deletion through a Terminating phase; custom objects of the kinds it serves (every
// kind of the catalogue, unless told otherwise), which go with their namespace. Used by `fabric
// dev` and the embedded tests; the contract suite holds it to the same behaviour as the live
// layer. Web-standard only.
import { Clock, Effect, Layer } from "effect"
import { ClusterId } from "../../src/domain/cluster.ts"
import type { Kind } from "../../src/domain/kind.ts"
import {
  Cluster, ClusterRefused, ClusterUnavailable, isObjectOf, KindNotServed, NamespaceMissing, objectAnnotationsFor, objectLabelsFor, ObjectConflict,
  type ManagedNamespace, type ManagedObject,
} from "../../src/services/cluster.ts"
import {
  isManagedByFabric, listedObjectFrom, managedMetadataFor, managedNamespaceFrom, objectNeedsApply, requireOwned, requireValidName, stillTerminating,
} from "../namespace-rules.ts"
import { SimulatedClusterState } from "./simulated-cluster-state.ts"

export { SimulatedClusterState } from "./simulated-cluster-state.ts"
export type { SimulatedClusterSettings, SimulatedNamespace, SimulatedObject } from "./simulated-cluster-state.ts"

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

      const served = (kind: string) => !state.unservedKinds.has(kind)
      const notServed = (kind: Kind) => new KindNotServed({ cluster, kind: `${kind.apiVersion} ${kind.kind}` })

      const servedKinds = Effect.fn("Cluster.servedKinds")(function* (kinds: ReadonlyArray<Kind>) {
        yield* roundTrip
        return new Set(kinds.filter((k) => served(k.kind)).map((k) => k.kind))
      })

      const applyObject = Effect.fn("Cluster.applyObject")(function* (o: ManagedObject) {
        yield* requireValidName(o.name)
        const now = yield* roundTrip
        if (!served(o.kind.kind)) return yield* notServed(o.kind)
        yield* outage(o.name)
        yield* refusal(o.name)
        const ns = state.lookup(o.namespace, now)
        if (ns === undefined) return yield* new NamespaceMissing({ cluster, namespace: o.namespace })
        if (ns.goneAt !== undefined) return yield* new ClusterRefused({ cluster, reason: `Forbidden: namespace ${o.namespace} is being terminated` })
        const existing = state.lookupObject(o.kind.kind, o.namespace, o.name, now)
        if (existing !== undefined && !isObjectOf(existing.labels, o)) {
          return yield* new ObjectConflict({ cluster, namespace: o.namespace, kind: o.kind.kind, name: o.name })
        }
        const labels = objectLabelsFor(o)
        const annotations = objectAnnotationsFor(o)
        const current = existing !== undefined && !objectNeedsApply(listedObjectFrom(existing), o)
          ? existing
          : state.putObject({ kind: o.kind.kind, namespace: o.namespace, name: o.name, labels, annotations, spec: o.spec }, now)
        return { objectGeneration: current.generation, conditions: current.conditions }
      })

      const deleteObject = Effect.fn("Cluster.deleteObject")(function* (o: ManagedObject) {
        const now = yield* roundTrip
        if (!served(o.kind.kind)) return "absent" as const
        yield* outage(o.name)
        const existing = state.lookupObject(o.kind.kind, o.namespace, o.name, now)
        if (existing === undefined) return "absent" as const
        if (!isObjectOf(existing.labels, o)) return yield* new ObjectConflict({ cluster, namespace: o.namespace, kind: o.kind.kind, name: o.name })
        yield* refusal(o.name)
        state.deleteObject(o.kind.kind, o.namespace, o.name, now)
        return state.lookupObject(o.kind.kind, o.namespace, o.name, now) === undefined ? "absent" as const : "deleting" as const
      })

      const listManagedObjects = Effect.fn("Cluster.listManagedObjects")(function* (kind: Kind) {
        const now = yield* roundTrip
        if (!served(kind.kind)) return yield* notServed(kind)
        return state.listObjects(kind.kind, now).filter((o) => isManagedByFabric(o.labels)).map(listedObjectFrom)
      })

      return Cluster.of({ id: cluster, ensureNamespace, deleteNamespace, listManaged, servedKinds, applyObject, deleteObject, listManagedObjects })
    }),
  )
