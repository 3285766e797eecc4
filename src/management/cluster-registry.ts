// The fleet: daemons announce join, heartbeat and leave on fabric.clusters; an operator may
// remove a cluster. A heartbeat of an Active cluster only records it as seen (no lock, nothing
// to tell). A change of membership is decided and written in ONE transaction holding the
// exclusive membership lock, together with a durable notice of what to tell which projects
// (join: Pending until its daemon reports; removal: stop waiting; unreachable: no longer holds
// Ready back; a deletion lets an unreachable cluster go after the deadline, reason recorded).
// The notices are worked off in chunks of projects, each chunk one transaction that advances the
// notice's cursor, so telling 20,000 projects takes bounded transactions and survives a crash.
import { Clock, Context, Effect, Layer } from "effect"
import { makeHost, type HostServices } from "../../machines/host.ts"
import { hostedProject, type ProjectSteps } from "../../machines/project-steps.ts"
import { hostedResource, type ResourceSteps } from "../../machines/resource-steps.ts"
import { Conflict, NotFound, type DomainError, type Unavailable } from "../domain/errors.ts"
import type { ClusterSignal } from "../domain/messages.ts"
import type { ClusterId, ClusterRecord } from "../domain/cluster.ts"
import { MembershipStore, type MembershipEvent, type NoticeAudience } from "../services/membership-store.ts"
import { Transactions } from "../services/transactions.ts"
import { layerContext } from "./layer-context.ts"

export interface SweepOptions {
  /** No heartbeat for this long: the cluster is Unreachable. */
  readonly unreachableAfterMs: number
  /** A deletion waits this long for an Unreachable cluster, then lets it go. */
  readonly deletionDeadlineMs: number
}

export interface RemoveOptions {
  /** Remove it even when it is the last Active cluster (projects then stay Provisioning). */
  readonly force?: boolean
}

/** Projects told per transaction while a notice is worked off. */
export const noticeChunk = 200

/** What a membership change tells projects. */
interface Notice {
  readonly events: ReadonlyArray<MembershipEvent>
  readonly audience: NoticeAudience
}

export interface ClusterRegistryShape {
  /** Every cluster Fabric knows, removed ones included, by id. */
  readonly list: () => Effect.Effect<ReadonlyArray<ClusterRecord>, Unavailable>
  /** A daemon's join, heartbeat or leave. */
  readonly signal: (s: ClusterSignal) => Effect.Effect<void, Unavailable>
  /**
   * Operator removal: projects stop waiting for the cluster (a deletion lets it go). Refused
   * (Conflict) when no other cluster would be left Active, unless `force`: with none, no project
   * has a namespace anywhere.
   */
  readonly remove: (id: ClusterId, options?: RemoveOptions) => Effect.Effect<ClusterRecord, NotFound | Conflict | Unavailable>
  /** Clusters configured for this process join at start (restarting with one more id is a join). */
  readonly register: (ids: ReadonlyArray<string>) => Effect.Effect<void, Unavailable>
  /** Marks silent clusters Unreachable, and lets deletions go of clusters silent past the deadline. */
  readonly sweep: (options: SweepOptions) => Effect.Effect<void, Unavailable>
  /** Tells projects what the open notices say, chunk by chunk, until the scope closes. */
  readonly workOffNotices: (options: { readonly fallbackPollMs: number }) => Effect.Effect<never, never>
}

const make = Effect.gen(function* () {
  const provide = yield* layerContext<MembershipStore | ProjectSteps | ResourceSteps | HostServices>()
  const store = yield* MembershipStore
  const transactions = yield* Transactions
  const projects = makeHost(hostedProject)
  const resources = makeHost(hostedResource)
  const iso = (ms: number) => new Date(ms).toISOString()
  // Silence is counted from when this process began to listen, not from a last heartbeat seen
  // before it started: after a restart, clusters are not Unreachable merely because nobody
  // was listening.
  const listeningSince = yield* Clock.currentTimeMillis

  // Wakes the notice worker of this process at once; other replicas' notices are found by polling.
  let wakeWorker: () => void = () => {}
  const noticeWritten = Effect.sync(() => wakeWorker())

  const find = (id: string) => store.listClusters().pipe(Effect.map((cs) => cs.find((c) => c.id === id)))

  /** Decides and writes a change and its notice in one transaction holding the membership lock. */
  const change = <E>(id: string, decide: (before: ClusterRecord | undefined) => Effect.Effect<Notice | undefined, E>) =>
    Effect.gen(function* () {
      const written = yield* transactions.transactionally(Effect.gen(function* () {
        yield* store.lockMembership("exclusive")
        const notice = yield* decide(yield* find(id))
        if (notice !== undefined) yield* store.enqueueNotice({ clusterId: id, ...notice })
        return notice !== undefined
      }))
      if (written) yield* noticeWritten
    })

  /** A cluster that is not Active joins; every live project gains it (Pending, or Deleting). */
  const joinDecision = (id: string, at: number) => (before: ClusterRecord | undefined) =>
    Effect.gen(function* () {
      yield* store.setClusterPhase(id, "Active", new Date(at))
      if (before?.phase === "Active") return undefined
      yield* Effect.logInfo("cluster joined", { cluster: id, before: before?.phase ?? "unknown" })
      const joined: MembershipEvent = { type: "cluster.joined", clusterId: id, at: iso(at) }
      const reachable: MembershipEvent = { type: "cluster.reachability", clusterId: id, reachable: true, at: iso(at) }
      return { events: before?.phase === "Unreachable" ? [joined, reachable] : [joined], audience: "live" } satisfies Notice
    })

  const signal = Effect.fn("ClusterRegistry.signal")(function* (s: ClusterSignal) {
    const at = Date.parse(s.at)
    switch (s.kind) {
      case "joined":
        // A daemon restarting in an Active cluster has nothing to tell anyone.
        if (yield* store.touchActiveCluster(s.clusterId, new Date(at))) return
        return yield* change(s.clusterId, (before) => Effect.gen(function* () {
          if (before?.phase === "Removed" && s.since !== undefined) {
            const removed = yield* store.removedAt(s.clusterId)
            if (removed !== undefined && Date.parse(s.since) < removed.getTime()) {
              yield* Effect.logInfo("join ignored: this daemon was already running when the cluster was removed; restart it to join again", {
                cluster: s.clusterId, daemonSince: s.since, removedAt: removed.toISOString(),
              })
              return undefined
            }
          }
          return yield* joinDecision(s.clusterId, at)(before)
        }))
      case "heartbeat":
        // What the cluster serves is recorded by the next heartbeat once it is Active again.
        if (yield* store.touchActiveCluster(s.clusterId, new Date(at), s.kinds)) return
        return yield* change(s.clusterId, (before) => {
          if (before === undefined) return joinDecision(s.clusterId, at)(before)
          // A removed cluster stays removed until its daemon joins again.
          if (before.phase === "Removed") return Effect.succeed(undefined)
          return store.setClusterPhase(s.clusterId, "Active", new Date(at)).pipe(Effect.as(
            before.phase === "Unreachable"
              ? { events: [{ type: "cluster.reachability", clusterId: s.clusterId, reachable: true, at: s.at }], audience: "live" } satisfies Notice
              : undefined,
          ))
        })
      case "left":
        return yield* change(s.clusterId, (before) => {
          if (before === undefined || before.phase !== "Active") return Effect.succeed(undefined)
          return store.setClusterPhase(s.clusterId, "Unreachable", undefined).pipe(Effect.as(
            { events: [{ type: "cluster.reachability", clusterId: s.clusterId, reachable: false, at: s.at }], audience: "live" } satisfies Notice,
          ))
        })
    }
  }, provide)

  const list = Effect.fn("ClusterRegistry.list")(function* () {
    return yield* store.listClusters()
  })

  const remove = Effect.fn("ClusterRegistry.remove")(function* (id: ClusterId, options: RemoveOptions = {}) {
    const at = iso(yield* Clock.currentTimeMillis)
    yield* change(id, (before) => Effect.gen(function* () {
      if (before === undefined) return yield* new NotFound({ resource: "cluster", id })
      if (before.phase === "Removed") return undefined
      // Read under the exclusive membership lock, so two removals at once cannot both pass.
      const othersActive = (yield* store.listClusters()).some((c) => c.id !== id && c.phase === "Active")
      if (!othersActive && !options.force) {
        return yield* new Conflict({
          message: `cluster ${id} is the last Active cluster: without it no project has a namespace anywhere (projects would stay Provisioning); add another cluster first, or remove it with force=true`,
        })
      }
      if (!othersActive) yield* Effect.logWarning("last Active cluster removed by force", { cluster: id })
      yield* store.markRemoved(id, new Date(at))
      return { events: [{ type: "cluster.removed", clusterId: id, reason: `cluster ${id} removed by the operator`, at }], audience: "live" } satisfies Notice
    }))
    return (yield* find(id)) as ClusterRecord
  }, provide)

  const register = Effect.fn("ClusterRegistry.register")(function* (ids: ReadonlyArray<string>) {
    const now = yield* Clock.currentTimeMillis
    for (const id of ids) {
      const before = yield* find(id)
      if (before === undefined || before.phase === "Removed") yield* change(id, joinDecision(id, now))
    }
  }, provide)

  const sweep = Effect.fn("ClusterRegistry.sweep")(function* (options: SweepOptions) {
    const now = yield* Clock.currentTimeMillis
    const silentFor = (c: ClusterRecord) => now - Math.max(listeningSince, c.lastSeenAt === null ? 0 : Date.parse(c.lastSeenAt))
    for (const listed of yield* store.listClusters()) {
      if (listed.phase === "Active" && silentFor(listed) > options.unreachableAfterMs) {
        yield* change(listed.id, () =>
          // Compare-and-set on the row: a heartbeat that came since the listing keeps it Active.
          store.markUnreachableIfSilent(listed.id, new Date(now - options.unreachableAfterMs)).pipe(Effect.flatMap((marked) => marked
            ? Effect.logWarning("cluster unreachable", { cluster: listed.id, lastSeenAt: listed.lastSeenAt }).pipe(Effect.as(
                { events: [{ type: "cluster.reachability", clusterId: listed.id, reachable: false, at: iso(now) }], audience: "live" } satisfies Notice))
            : Effect.succeed(undefined))))
      }
      // Told again at every sweep while it stays silent (a project that starts deleting later
      // must let it go too); no second notice while one is still being worked off.
      if (listed.phase === "Unreachable" && silentFor(listed) > options.deletionDeadlineMs) {
        yield* change(listed.id, () => Effect.succeed({
          events: [{
            type: "cluster.released", clusterId: listed.id, at: iso(now),
            reason: `cluster ${listed.id} unreachable for more than ${Math.round(options.deletionDeadlineMs / 1000)}s`,
          }],
          audience: "deleting",
        } satisfies Notice))
      }
    }
  }, provide)

  /** One chunk of the oldest open notice; false when there was nothing to do (or another worker is on it). */
  const workOneChunk = transactions.transactionally(Effect.gen(function* () {
    const notice = yield* store.claimOldestNotice()
    if (notice === undefined) return false
    const ids = yield* store.noticeAudience(notice, noticeChunk)
    // Resources have members as projects do: the same events, to their own machine.
    for (const id of ids) {
      const told: Effect.Effect<unknown, DomainError, ProjectSteps | ResourceSteps | HostServices> =
        id.startsWith("res_") ? resources.sendAll(id, notice.events) : projects.sendAll(id, notice.events)
      yield* told.pipe(Effect.catchTag("NotFound", () => Effect.void))
    }
    yield* store.advanceNotice(notice.id, ids.at(-1) ?? notice.cursor, ids.length < noticeChunk)
    return true
  })).pipe(Effect.withSpan("ClusterRegistry.workOneChunk"))

  const workOffNotices = (options: { readonly fallbackPollMs: number }) =>
    Effect.gen(function* () {
      while (true) {
        const worked = yield* provide(workOneChunk).pipe(
          Effect.catch((e) => Effect.logWarning("membership notices not worked off; retrying", { error: String(e) }).pipe(Effect.as(false))),
        )
        if (worked) continue
        yield* Effect.callback<void>((resume) => {
          const timer = setTimeout(() => resume(Effect.void), options.fallbackPollMs)
          wakeWorker = () => { clearTimeout(timer); resume(Effect.void) }
          return Effect.sync(() => clearTimeout(timer))
        })
      }
    })

  return { list, signal, remove, register, sweep, workOffNotices } satisfies ClusterRegistryShape
})

export class ClusterRegistry extends Context.Service<ClusterRegistry, ClusterRegistryShape>()("fabric/ClusterRegistry") {
  static readonly layer = Layer.effect(ClusterRegistry, make)
}

/** How long an idle worker waits before looking for notices written by another replica. */
export const noticePollMs = 1_000

