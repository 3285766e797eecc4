import { Effect } from "effect"
import type { ClusterPhase, ClusterRecord } from "../../src/domain/project.ts"
import type { ClusterChange } from "../../src/services/state-store.ts"
import { query } from "./database.ts"

/** Moves a cluster from `from` (undefined: not registered) to `to`, only if it is still in `from`. */
export const transitionCluster = (id: string, from: ClusterPhase | undefined, to: ClusterPhase, change: ClusterChange) =>
  query((sql) => from === undefined
    ? sql`insert into fabric.clusters (id, phase, joined_at, last_seen_at) values (${id}, ${to}, now(), ${change.seenAt ?? null})
        on conflict (id) do nothing returning id`
    : sql`update fabric.clusters set phase = ${to}, last_seen_at = coalesce(${change.seenAt ?? null}::timestamptz, last_seen_at)
        where id = ${id} and phase = ${from}
        returning id`).pipe(Effect.map((rows) => rows.length === 1))

export const listClusters = () =>
  query((sql) => sql<{ id: string; phase: ClusterPhase; lastSeenAt: Date | null }[]>`
    select id, phase, last_seen_at as "lastSeenAt" from fabric.clusters order by id`).pipe(
    Effect.map((rows): ReadonlyArray<ClusterRecord> => rows.map((r) => ({ id: r.id, phase: r.phase, lastSeenAt: r.lastSeenAt?.toISOString() ?? null }))),
  )

// One advisory-lock key for fleet membership (any constant unique within Fabric's database).
const membershipLockKey = 0x6661_6272 // "fabr"

/**
 * Within the current transaction: a project's creation (shared) and a membership change with
 * its fan-out listing (exclusive) exclude each other, so a project created while a cluster joins
 * either sees the cluster or is seen by the fan-out; never neither.
 */
export const lockMembership = (mode: "shared" | "exclusive") =>
  query((sql) => mode === "shared"
    ? sql`select pg_advisory_xact_lock_shared(${membershipLockKey})`
    : sql`select pg_advisory_xact_lock(${membershipLockKey})`).pipe(Effect.asVoid)
