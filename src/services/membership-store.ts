import { Context, type Effect } from "effect"
import type { Unavailable } from "../domain/errors.ts"
import type { ClusterPhase, ClusterRecord } from "../domain/cluster.ts"

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

/** The fleet: clusters and their phases, the membership lock, and the notices of what to tell which projects. */
export class MembershipStore extends Context.Service<MembershipStore, {
  /** Callers hold the membership lock (lockMembership "exclusive"): they read, decide and write alone. */
  readonly setClusterPhase: (id: string, phase: ClusterPhase, seenAt: Date | undefined) => Effect.Effect<void, Unavailable>
  readonly listClusters: () => Effect.Effect<ReadonlyArray<ClusterRecord>, Unavailable>
  /** The operator removed it (under the membership lock): phase Removed as of `at`. */
  readonly markRemoved: (id: string, at: Date) => Effect.Effect<void, Unavailable>
  /** When it was last removed, if ever. */
  readonly removedAt: (id: string) => Effect.Effect<Date | undefined, Unavailable>
  /** Inside a transaction: creations (shared) and membership changes (exclusive) never interleave. */
  readonly lockMembership: (mode: "shared" | "exclusive") => Effect.Effect<void, Unavailable>
  /** A heartbeat of an Active cluster (no lock needed), with the kinds it serves when it says; false when the cluster is not Active. */
  readonly touchActiveCluster: (id: string, seenAt: Date, kinds?: ReadonlyArray<string>) => Effect.Effect<boolean, Unavailable>
  /** Active to Unreachable, only if still silent since before `silentBefore`. */
  readonly markUnreachableIfSilent: (id: string, silentBefore: Date) => Effect.Effect<boolean, Unavailable>

  /** In the transaction that decides a membership change: what to tell which projects. */
  readonly enqueueNotice: (notice: NewMembershipNotice) => Effect.Effect<void, Unavailable>
  /** Inside a transaction: the oldest open notice, unless another worker is on the notices now. */
  readonly claimOldestNotice: () => Effect.Effect<MembershipNotice | undefined, Unavailable>
  readonly noticeAudience: (notice: MembershipNotice, limit: number) => Effect.Effect<ReadonlyArray<string>, Unavailable>
  readonly advanceNotice: (id: string, cursor: string, done: boolean) => Effect.Effect<void, Unavailable>
}>()("fabric/MembershipStore") {}
