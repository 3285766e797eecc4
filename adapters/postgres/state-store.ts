import { Effect, Layer } from "effect"
import { StateStore } from "../../src/services/state-store.ts"
import * as accounts from "./accounts.ts"
import * as clusters from "./clusters.ts"
import { Database, unavailable, type DatabaseError } from "./database.ts"
import * as debugSessions from "./debug-sessions.ts"
import * as idempotency from "./idempotency.ts"
import * as outbox from "./outbox.ts"
import * as projects from "./projects.ts"
import * as snapshots from "./snapshots.ts"

/** StateStore on Postgres (a real server or embedded PGlite: the same SQL). */
export const layer = Layer.effect(
  StateStore,
  Effect.gen(function* () {
    const database = yield* Database
    // Each repository function runs on the current transaction if there is one; a driver error
    // the domain does not handle becomes Unavailable.
    const lift = <Args extends ReadonlyArray<unknown>, A, E>(name: string, f: (...args: Args) => Effect.Effect<A, E | DatabaseError, Database>) =>
      (...args: Args): Effect.Effect<A, Exclude<E, DatabaseError> | ReturnType<typeof unavailable>> =>
        f(...args).pipe(
          Effect.catchIf((e): e is DatabaseError => (e as { _tag?: string })._tag === "DatabaseError", (e) => Effect.fail(unavailable(e))),
          Effect.provideService(Database, database),
          Effect.withSpan(`StateStore.${name}`),
        )

    return StateStore.of({
      insertAccount: lift("insertAccount", accounts.insertAccount),
      getAccount: lift("getAccount", accounts.getAccount),
      accountIdForKey: lift("accountIdForKey", accounts.accountIdForKey),
      saveProject: lift("saveProject", projects.saveProject),
      getProject: lift("getProject", projects.getProject),
      listProjects: lift("listProjects", projects.listProjects),
      countProjects: lift("countProjects", projects.countProjects),
      projectIdsInPhase: lift("projectIdsInPhase", projects.projectIdsInPhase),
      loadSnapshot: lift("loadSnapshot", snapshots.loadSnapshot),
      saveSnapshot: lift("saveSnapshot", snapshots.saveSnapshot),
      activeActors: lift("activeActors", snapshots.activeActors),
      actorHistory: lift("actorHistory", snapshots.actorHistory),
      listActors: lift("listActors", snapshots.listActors),
      enqueue: lift("enqueue", outbox.enqueue),
      pendingOutbox: lift("pendingOutbox", outbox.pendingOutbox),
      markSent: lift("markSent", outbox.markSent),
      outboxBacklog: lift("outboxBacklog", outbox.outboxBacklog),
      outboxLag: lift("outboxLag", outbox.outboxLag),
      findIdempotent: lift("findIdempotent", idempotency.findIdempotent),
      saveIdempotent: lift("saveIdempotent", idempotency.saveIdempotent),
      setClusterPhase: lift("setClusterPhase", clusters.setClusterPhase),
      listClusters: lift("listClusters", clusters.listClusters),
      lockMembership: lift("lockMembership", clusters.lockMembership),
      touchActiveCluster: lift("touchActiveCluster", clusters.touchActiveCluster),
      markUnreachableIfSilent: lift("markUnreachableIfSilent", clusters.markUnreachableIfSilent),
      enqueueNotice: lift("enqueueNotice", clusters.enqueueNotice),
      claimOldestNotice: lift("claimOldestNotice", clusters.claimOldestNotice),
      noticeAudience: lift("noticeAudience", clusters.noticeAudience),
      advanceNotice: lift("advanceNotice", clusters.advanceNotice),
      openNotices: lift("openNotices", clusters.openNotices),
      revokeDebugSession: lift("revokeDebugSession", debugSessions.revokeDebugSession),
      isDebugSessionRevoked: lift("isDebugSessionRevoked", debugSessions.isDebugSessionRevoked),
    })
  }),
)
