import { Effect } from "effect"
import type { ClusterPhase, ClusterRecord } from "../../src/domain/project.ts"
import { query } from "./database.ts"

/** Registers the cluster or sets its phase; `seenAt` (a signal's time) is recorded as last seen. */
export const setClusterPhase = (id: string, phase: ClusterPhase, seenAt: Date | undefined) =>
  query((sql) => sql`
    insert into fabric.clusters (id, phase, joined_at, last_seen_at) values (${id}, ${phase}, now(), ${seenAt ?? null})
    on conflict (id) do update set phase = excluded.phase,
      last_seen_at = coalesce(excluded.last_seen_at, fabric.clusters.last_seen_at)`).pipe(Effect.asVoid)

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
