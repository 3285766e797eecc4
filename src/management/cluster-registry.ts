// The fleet: daemons announce join, heartbeat and leave on fabric.clusters; an operator may
// remove a cluster. Membership changes reach every live project's actor (join: Pending until
// its daemon reports; removal: stop waiting; unreachable: no longer holds Ready back; a
// deletion lets an unreachable cluster go after the deadline, with the reason recorded).
import { Clock, Context, Effect, Layer } from "effect"
import { makeHost } from "../../machines/host.ts"
import { hostedProject } from "../../machines/project-steps.ts"
import { NotFound } from "../domain/errors.ts"
import type { ClusterSignal } from "../domain/messages.ts"
import type { ClusterRecord } from "../domain/project.ts"
import { Changes } from "../services/changes.ts"
import { Metrics } from "../services/metrics.ts"
import { LegacyDemeter } from "../services/legacy-demeter.ts"
import { StateStore } from "../services/state-store.ts"
import { Transactions } from "../services/transactions.ts"

export interface SweepOptions {
  /** No heartbeat for this long: the cluster is Unreachable. */
  readonly unreachableAfterMs: number
  /** A deletion waits this long for an Unreachable cluster, then lets it go. */
  readonly deletionDeadlineMs: number
}

const make = Effect.gen(function* () {
  const services = yield* Effect.context<StateStore | LegacyDemeter | Transactions | Changes | Metrics>()
  const store = yield* StateStore
  const projects = makeHost(hostedProject)
  const provide = <A, E>(effect: Effect.Effect<A, E, StateStore | LegacyDemeter | Transactions | Changes | Metrics>) => Effect.provideContext(effect, services)
  const iso = (ms: number) => new Date(ms).toISOString()

  const find = (id: string) => store.listClusters().pipe(Effect.map((cs) => cs.find((c) => c.id === id)))

  /** Sends one event to every live project (or those given), one transaction each. */
  const fanOut = (event: Parameters<typeof projects.send>[1], only?: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      for (const projectId of only ?? (yield* store.activeActors("project"))) {
        yield* projects.send(projectId, event).pipe(Effect.catchTag("NotFound", () => Effect.void))
      }
    })

  const lost = Symbol("lost")
  /**
   * Reads the cluster, decides, and writes with a compare-and-set on what it read; a concurrent
   * change (a heartbeat, the sweeper, an operator's removal) makes it read and decide again.
   */
  const change = <A, E, R>(id: string, decide: (before: ClusterRecord | undefined) => Effect.Effect<A, E, R>) =>
    Effect.gen(function* () {
      for (let attempt = 1; ; attempt++) {
        const outcome = yield* decide(yield* find(id))
        if (outcome !== lost || attempt === 10) return outcome
      }
    })
  const transition = (id: string, before: ClusterRecord | undefined, to: ClusterRecord["phase"], seenAt?: Date) =>
    store.transitionCluster(id, before?.phase, to, seenAt === undefined ? {} : { seenAt })

  const join = (id: string, at: number) =>
    change(id, (before) => Effect.gen(function* () {
      if (!(yield* transition(id, before, "Active", new Date(at)))) return lost
      if (before === undefined || before.phase === "Removed") {
        yield* Effect.logInfo("cluster joined", { cluster: id })
        yield* fanOut({ type: "cluster.joined", clusterId: id, at: iso(at) })
      } else if (before.phase === "Unreachable") {
        yield* fanOut({ type: "cluster.reachability", clusterId: id, reachable: true, at: iso(at) })
      }
    }))

  const signal = Effect.fn("ClusterRegistry.signal")(function* (s: ClusterSignal) {
    const at = Date.parse(s.at)
    switch (s.kind) {
      case "joined":
        return yield* join(s.clusterId, at)
      case "heartbeat":
        return yield* change(s.clusterId, (before) => Effect.gen(function* () {
          if (before === undefined) return yield* join(s.clusterId, at)
          // A removed cluster stays removed until its daemon joins again.
          if (before.phase === "Removed") return
          if (!(yield* transition(s.clusterId, before, "Active", new Date(at)))) return lost
          if (before.phase === "Unreachable") yield* fanOut({ type: "cluster.reachability", clusterId: s.clusterId, reachable: true, at: s.at })
        }))
      case "left":
        return yield* change(s.clusterId, (before) => Effect.gen(function* () {
          if (before === undefined || before.phase !== "Active") return
          if (!(yield* transition(s.clusterId, before, "Unreachable"))) return lost
          yield* fanOut({ type: "cluster.reachability", clusterId: s.clusterId, reachable: false, at: s.at })
        }))
    }
  }, provide)

  /** Operator removal: projects stop waiting for the cluster (a deletion lets it go). */
  const remove = Effect.fn("ClusterRegistry.remove")(function* (id: string) {
    yield* change(id, (before) => Effect.gen(function* () {
      if (before === undefined) return yield* new NotFound({ resource: "cluster", id })
      if (before.phase === "Removed") return
      if (!(yield* transition(id, before, "Removed"))) return lost
      yield* fanOut({ type: "cluster.removed", clusterId: id, reason: `cluster ${id} removed by the operator`, at: iso(yield* Clock.currentTimeMillis) })
    }))
    return (yield* find(id)) as ClusterRecord
  }, provide)

  /** Clusters configured for this process join at start (restarting with one more id is a join). */
  const register = Effect.fn("ClusterRegistry.register")(function* (ids: ReadonlyArray<string>) {
    const now = yield* Clock.currentTimeMillis
    for (const id of ids) {
      const before = yield* find(id)
      if (before === undefined || before.phase === "Removed") yield* join(id, now)
    }
  }, provide)

  /** Marks silent clusters Unreachable, and lets deletions go of clusters silent past the deadline. */
  const sweep = Effect.fn("ClusterRegistry.sweep")(function* (options: SweepOptions) {
    const now = yield* Clock.currentTimeMillis
    for (const c of yield* store.listClusters()) {
      const silentFor = c.lastSeenAt === null ? Number.POSITIVE_INFINITY : now - Date.parse(c.lastSeenAt)
      if (c.phase === "Active" && c.lastSeenAt !== null && silentFor > options.unreachableAfterMs) {
        // Only if no heartbeat arrived since the listing: a late decision must not win.
        if (yield* store.transitionCluster(c.id, "Active", "Unreachable", { seenBefore: new Date(now - options.unreachableAfterMs) })) {
          yield* Effect.logWarning("cluster unreachable", { cluster: c.id, lastSeenAt: c.lastSeenAt })
          yield* fanOut({ type: "cluster.reachability", clusterId: c.id, reachable: false, at: iso(now) })
        }
      }
      if (c.phase === "Unreachable" && silentFor > options.deletionDeadlineMs) {
        yield* fanOut({
          type: "cluster.released", clusterId: c.id, at: iso(now),
          reason: `cluster ${c.id} unreachable for more than ${Math.round(options.deletionDeadlineMs / 1000)}s`,
        }, yield* store.projectIdsInPhase("Deleting"))
      }
    }
  }, provide)

  return { signal, remove, register, sweep }
})

export class ClusterRegistry extends Context.Service<ClusterRegistry, Effect.Success<typeof make>>()("fabric/ClusterRegistry") {
  static readonly layer = Layer.effect(ClusterRegistry, make)
}
