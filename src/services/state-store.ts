import { Context, Schema, type Effect } from "effect"
import type { Conflict, Unavailable } from "../domain/errors.ts"
import type { Account, ClusterPhase, ClusterRecord, Project } from "../domain/project.ts"

export interface StoredSnapshot {
  readonly version: number
  readonly snapshot: unknown
}

export interface SnapshotWrite {
  readonly actorId: string
  readonly machine: "account" | "project"
  /** "active" keeps the actor on the resume list; "done" takes it off. */
  readonly status: "active" | "done"
  readonly snapshot: unknown
  /** The version that was loaded, or undefined for a new actor. */
  readonly expectedVersion: number | undefined
  /** The event applied (or the creation input), kept in the actor's history. */
  readonly event: unknown
  /** The state value it led to. */
  readonly state: unknown
}

/** Someone else saved the actor since it was loaded: reload and apply the event again. */
export class SnapshotVersionConflict extends Schema.TaggedError<SnapshotVersionConflict>()("SnapshotVersionConflict", {
  actorId: Schema.String,
}) {}

/** Another request stored an answer under the same Idempotency-Key first (it may still be running). */
export class IdempotencyKeyTaken extends Schema.TaggedError<IdempotencyKeyTaken>()("IdempotencyKeyTaken", {
  scope: Schema.String,
  key: Schema.String,
}) {}

export interface ActorEvent {
  readonly version: number
  readonly event: unknown
  readonly state: unknown
  readonly at: string
}

export interface ActorSummary {
  readonly actorId: string
  readonly machine: "account" | "project"
  readonly status: "active" | "done"
  readonly version: number
  readonly state: unknown
  readonly updatedAt: string
}

export interface OutboxMessage {
  readonly topic: string
  readonly key: string
  readonly value: string | null
  readonly headers: Readonly<Record<string, string>>
}
export interface OutboxRow extends OutboxMessage {
  readonly id: string
}

export interface OutboxLag {
  readonly unsent: number
  /** Age of the oldest unsent row, on the database's clock; 0 when none is waiting. */
  readonly oldestUnsentSeconds: number
}

export interface IdempotentResponse {
  readonly requestHash: string
  readonly status: number
  readonly body: unknown
}

/** An event a membership change sends to a project's actor (machines/project.ts, ProjectEvent). */
export interface MembershipEvent {
  readonly type: "cluster.joined" | "cluster.removed" | "cluster.released" | "cluster.reachability"
  readonly clusterId: string
  readonly at: string
  readonly [field: string]: unknown
}

/** Which projects a notice concerns: every live one, or only those being deleted. */
export type NoticeAudience = "live" | "deleting"

export interface NewMembershipNotice {
  readonly clusterId: string
  readonly events: ReadonlyArray<MembershipEvent>
  readonly audience: NoticeAudience
}

export interface MembershipNotice extends NewMembershipNotice {
  readonly id: string
  /** The last project id told. */
  readonly cursor: string
}

export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly nextCursor: string | null
}

/** Fabric's own state: accounts, projects (read model), snapshots, outbox, idempotency, clusters. */
export class StateStore extends Context.Service<StateStore, {
  readonly insertAccount: (account: Account, apiKeyHash: string) => Effect.Effect<void, Conflict | Unavailable>
  readonly getAccount: (id: string) => Effect.Effect<Account | undefined, Unavailable>
  readonly accountIdForKey: (apiKeyHash: string) => Effect.Effect<string | undefined, Unavailable>

  /** Writes the read model of a project as the machine left it; only what differs from `before` (the model it was loaded with; undefined for a new project). */
  readonly saveProject: (project: Project, before: Project | undefined) => Effect.Effect<void, Unavailable>
  readonly getProject: (id: string) => Effect.Effect<Project | undefined, Unavailable>
  readonly listProjects: (accountId: string, page: { limit: number; cursor: string | undefined }) => Effect.Effect<Page<Project>, Unavailable>
  readonly countProjects: () => Effect.Effect<number, Unavailable>
  readonly projectIdsInPhase: (phase: Project["phase"]) => Effect.Effect<ReadonlyArray<string>, Unavailable>

  readonly loadSnapshot: (actorId: string) => Effect.Effect<StoredSnapshot | undefined, Unavailable>
  /** Stores the snapshot (compare-and-set) and, when given, the event that led to it. */
  readonly saveSnapshot: (write: SnapshotWrite) => Effect.Effect<number, SnapshotVersionConflict | Unavailable>
  readonly actorHistory: (actorId: string, limit: number) => Effect.Effect<ReadonlyArray<ActorEvent>, Unavailable>
  readonly listActors: (options: { machine?: "account" | "project"; limit: number }) => Effect.Effect<ReadonlyArray<ActorSummary>, Unavailable>
  readonly activeActors: (machine: "account" | "project") => Effect.Effect<ReadonlyArray<string>, Unavailable>

  readonly enqueue: (messages: ReadonlyArray<OutboxMessage>) => Effect.Effect<void, Unavailable>
  readonly pendingOutbox: (limit: number) => Effect.Effect<ReadonlyArray<OutboxRow>, Unavailable>
  readonly markSent: (ids: ReadonlyArray<string>) => Effect.Effect<void, Unavailable>
  readonly outboxBacklog: () => Effect.Effect<number, Unavailable>
  readonly outboxLag: () => Effect.Effect<OutboxLag, Unavailable>

  readonly findIdempotent: (scope: string, key: string) => Effect.Effect<IdempotentResponse | undefined, Unavailable>
  /** Fails with IdempotencyKeyTaken when a concurrent request stored the same key first. */
  readonly saveIdempotent: (scope: string, key: string, response: IdempotentResponse) => Effect.Effect<void, IdempotencyKeyTaken | Unavailable>

  /** Callers hold the membership lock (lockMembership "exclusive"): they read, decide and write alone. */
  readonly setClusterPhase: (id: string, phase: ClusterPhase, seenAt: Date | undefined) => Effect.Effect<void, Unavailable>
  readonly listClusters: () => Effect.Effect<ReadonlyArray<ClusterRecord>, Unavailable>
  /** Inside a transaction: creations (shared) and membership changes (exclusive) never interleave. */
  readonly lockMembership: (mode: "shared" | "exclusive") => Effect.Effect<void, Unavailable>
  /** A heartbeat of an Active cluster (no lock needed); false when the cluster is not Active. */
  readonly touchActiveCluster: (id: string, seenAt: Date) => Effect.Effect<boolean, Unavailable>
  /** Active to Unreachable, only if still silent since before `silentBefore`. */
  readonly markUnreachableIfSilent: (id: string, silentBefore: Date) => Effect.Effect<boolean, Unavailable>

  /** In the transaction that decides a membership change: what to tell which projects. */
  readonly enqueueNotice: (notice: NewMembershipNotice) => Effect.Effect<void, Unavailable>
  /** Inside a transaction: the oldest open notice, unless another worker is on the notices now. */
  readonly claimOldestNotice: () => Effect.Effect<MembershipNotice | undefined, Unavailable>
  readonly noticeAudience: (notice: MembershipNotice, limit: number) => Effect.Effect<ReadonlyArray<string>, Unavailable>
  readonly advanceNotice: (id: string, cursor: string, done: boolean) => Effect.Effect<void, Unavailable>
  readonly openNotices: () => Effect.Effect<number, Unavailable>

  /** /debug sessions ended by a logout, until they would have expired (rpc/debug-session.ts). */
  readonly revokeDebugSession: (sessionId: string, expiresAt: Date, now: Date) => Effect.Effect<void, Unavailable>
  readonly isDebugSessionRevoked: (sessionId: string) => Effect.Effect<boolean, Unavailable>
}>()("fabric/StateStore") {}
