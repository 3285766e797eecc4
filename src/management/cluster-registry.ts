// The fleet: daemons announce join, heartbeat and leave on fabric.clusters; an operator may
// remove a cluster. Membership changes reach every live project's actor (join: Pending until
// its daemon reports; removal: stop waiting; unreachable: no longer holds Ready back; a
// deletion lets an unreachable cluster go after the deadline, with the reason recorded).
import { Clock, Context, Effect, Layer } from "effect"
import { makeHost } from "../../machines/host.ts"
import { hostedProject } from "../../machines/project-steps.ts"
import { NotFound, type Unavailable } from "../domain/errors.ts"
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
  const transactions = yield* Transactions
  const projects = makeHost(hostedProject)
  const provide = <A, E>(effect: Effect.Effect<A, E, StateStore | LegacyDemeter | Transactions | Changes | Metrics>) => Effect.provideContext(effect, services)
  const iso = (ms: number) => new Date(ms).toISOString()

  const find = (id: string) => store.listClusters().pipe(Effect.map((cs) => cs.find((c) => c.id === id)))

  type ProjectEvent = Parameters<typeof projects.send>[1]
  /** What a membership change tells projects: events, to every live project or to `only` these. */
  interface Notice { readonly events: ReadonlyArray<ProjectEvent>; readonly only?: ReadonlyArray<string> }

  /**
   * Reads the cluster, decides, writes, and lists the projects to tell, in ONE transaction
   * holding the membership lock: a project created meanwhile is either in that list or saw the
   * change when it read the members (StateStore.lockMembership). Then tells each project, one
   * transaction each; a crash in between leaves projects to the next signal or sweep.
   */
  const change = (decide: (before: ClusterRecord | undefined) => Effect.Effect<Notice | undefined, NotFound | Unavailable>, id: string) =>
    Effect.gen(function* () {
      const decided = yield* transactions.transactionally(Effect.gen(function* () {
        yield* store.lockMembership("exclusive")
        const notice = yield* decide(yield* find(id))
        if (notice === undefined) return undefined
        return { events: notice.events, projectIds: notice.only ?? (yield* store.activeActors("project")) }
      }))
      if (decided === undefined) return
      for (const projectId of decided.projectIds) {
        for (const event of decided.events) yield* projects.send(projectId, event).pipe(Effect.catchTag("NotFound", () => Effect.void))
      }
    })


  /**
   * A daemon that (re)starts joins. Every live project is told, members or not: joining is
   * idempotent, and a fan-out cut short by a crash is completed when the signal is redelivered or
   * the daemon starts again.
   */
  const joinDecision = (id: string, at: number) => (before: ClusterRecord | undefined) =>
    Effect.gen(function* () {
      yield* store.setClusterPhase(id, "Active", new Date(at))
      if (before?.phase !== "Active") yield* Effect.logInfo("cluster joined", { cluster: id, before: before?.phase ?? "unknown" })
      const joined: ProjectEvent = { type: "cluster.joined", clusterId: id, at: iso(at) }
      const reachable: ProjectEvent = { type: "cluster.reachability", clusterId: id, reachable: true, at: iso(at) }
      return { events: before?.phase === "Unreachable" ? [joined, reachable] : [joined] } satisfies Notice
    })

  const join = (id: string, at: number) => change(joinDecision(id, at), id)

  const signal = Effect.fn("ClusterRegistry.signal")(function* (s: ClusterSignal) {
    const at = Date.parse(s.at)
    switch (s.kind) {
      case "joined":
        return yield* join(s.clusterId, at)
      case "heartbeat":
        return yield* change((before) => {
          if (before === undefined) return joinDecision(s.clusterId, at)(before)
          // A removed cluster stays removed until its daemon joins again.
          if (before.phase === "Removed") return Effect.succeed(undefined)
          return store.setClusterPhase(s.clusterId, "Active", new Date(at)).pipe(Effect.as(
            before.phase === "Unreachable" ? { events: [{ type: "cluster.reachability", clusterId: s.clusterId, reachable: true, at: s.at }] } satisfies Notice : undefined,
          ))
        }, s.clusterId)
      case "left":
        return yield* change((before) => {
          if (before === undefined || before.phase !== "Active") return Effect.succeed(undefined)
          return store.setClusterPhase(s.clusterId, "Unreachable", undefined).pipe(Effect.as({ events: [{ type: "cluster.reachability", clusterId: s.clusterId, reachable: false, at: s.at }] } satisfies Notice))
        }, s.clusterId)
    }
  }, provide)

  /** Operator removal: projects stop waiting for the cluster (a deletion lets it go). */
  const remove = Effect.fn("ClusterRegistry.remove")(function* (id: string) {
    const at = iso(yield* Clock.currentTimeMillis)
    yield* change((before) => {
      if (before === undefined) return Effect.fail(new NotFound({ resource: "cluster", id }))
      if (before.phase === "Removed") return Effect.succeed(undefined)
      return store.setClusterPhase(id, "Removed", undefined).pipe(Effect.as({ events: [{ type: "cluster.removed", clusterId: id, reason: `cluster ${id} removed by the operator`, at }] } satisfies Notice))
    }, id)
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
    const silentSince = (c: ClusterRecord) => c.lastSeenAt === null ? Number.POSITIVE_INFINITY : now - Date.parse(c.lastSeenAt)
    for (const listed of yield* store.listClusters()) {
      if (listed.phase === "Active" && listed.lastSeenAt !== null && silentSince(listed) > options.unreachableAfterMs) {
        yield* change((c) => {
          // Decided again under the lock: a heartbeat may have arrived since the listing.
          if (c?.phase !== "Active" || silentSince(c) <= options.unreachableAfterMs) return Effect.succeed(undefined)
          return store.setClusterPhase(c.id, "Unreachable", undefined).pipe(
            Effect.andThen(Effect.logWarning("cluster unreachable", { cluster: c.id, lastSeenAt: c.lastSeenAt })),
            Effect.as({ events: [{ type: "cluster.reachability", clusterId: c.id, reachable: false, at: iso(now) }] } satisfies Notice),
          )
        }, listed.id)
      }
      if (listed.phase === "Unreachable" && silentSince(listed) > options.deletionDeadlineMs) {
        yield* change(() => store.projectIdsInPhase("Deleting").pipe(Effect.map((only) => ({
          events: [{
            type: "cluster.released", clusterId: listed.id, at: iso(now),
            reason: `cluster ${listed.id} unreachable for more than ${Math.round(options.deletionDeadlineMs / 1000)}s`,
          }],
          only,
        }) satisfies Notice)), listed.id)
      }
    }
  }, provide)

  return { signal, remove, register, sweep }
})

export class ClusterRegistry extends Context.Service<ClusterRegistry, Effect.Success<typeof make>>()("fabric/ClusterRegistry") {
  static readonly layer = Layer.effect(ClusterRegistry, make)
}
