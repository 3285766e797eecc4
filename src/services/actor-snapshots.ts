import { Context, Schema, type Effect } from "effect"
import type { Unavailable } from "../domain/errors.ts"

/** The machines whose actors are stored: machines/account.ts, project.ts, resource.ts. */
export type MachineKind = "account" | "project" | "resource"

export interface StoredSnapshot {
  readonly version: number
  readonly snapshot: unknown
}

export interface SnapshotWrite {
  readonly actorId: string
  readonly machine: MachineKind
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

export interface ActorEvent {
  readonly version: number
  readonly event: unknown
  readonly state: unknown
  readonly at: string
}

export interface ActorSummary {
  readonly actorId: string
  readonly machine: MachineKind
  readonly status: "active" | "done"
  readonly version: number
  readonly state: unknown
  readonly updatedAt: string
}

/** The actors' persisted snapshots (versioned, for compare-and-set) and their event history. */
export class ActorSnapshots extends Context.Service<ActorSnapshots, {
  readonly loadSnapshot: (actorId: string) => Effect.Effect<StoredSnapshot | undefined, Unavailable>
  /** Stores the snapshot (compare-and-set) and, when given, the event that led to it. */
  readonly saveSnapshot: (write: SnapshotWrite) => Effect.Effect<number, SnapshotVersionConflict | Unavailable>
  readonly actorHistory: (actorId: string, limit: number) => Effect.Effect<ReadonlyArray<ActorEvent>, Unavailable>
  readonly listActors: (options: { machine?: MachineKind; limit: number }) => Effect.Effect<ReadonlyArray<ActorSummary>, Unavailable>
}>()("fabric/ActorSnapshots") {}
