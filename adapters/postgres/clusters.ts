import { Effect } from "effect"
import { ClusterId, type ClusterPhase, type ClusterRecord } from "../../src/domain/cluster.ts"
import { MembershipStore, type MembershipEvent, type MembershipNotice, type NewMembershipNotice, type NoticeAudience } from "../../src/services/membership-store.ts"
import { jsonb, query } from "./database.ts"
import { repositoryLayer } from "./repository-layer.ts"

/** Registers the cluster or sets its phase; `seenAt` (a signal's time) is recorded as last seen. */
export const setClusterPhase = (id: string, phase: ClusterPhase, seenAt: Date | undefined) =>
  query((sql) => sql`
    insert into fabric.clusters (id, phase, joined_at, last_seen_at) values (${id}, ${phase}, now(), ${seenAt ?? null})
    on conflict (id) do update set phase = excluded.phase,
      last_seen_at = coalesce(excluded.last_seen_at, fabric.clusters.last_seen_at)`).pipe(Effect.asVoid)

/** The cluster is Removed as of `at` (the operator's call). */
export const markRemoved = (id: string, at: Date) =>
  query((sql) => sql`update fabric.clusters set phase = 'Removed', removed_at = ${at} where id = ${id}`).pipe(Effect.asVoid)

/** When the cluster was last removed, if ever. */
export const removedAt = (id: string) =>
  query((sql) => sql<{ at: Date }[]>`select removed_at as at from fabric.clusters where id = ${id} and removed_at is not null`).pipe(
    Effect.map((rows) => rows[0]?.at),
  )

export const listClusters = () =>
  query((sql) => sql<{ id: string; phase: ClusterPhase; lastSeenAt: Date | null; kinds: string[] | null }[]>`
    select id, phase, last_seen_at as "lastSeenAt", served_kinds as kinds from fabric.clusters order by id`).pipe(
    Effect.map((rows): ReadonlyArray<ClusterRecord> => rows.map((r) => ({
      id: ClusterId.make(r.id), phase: r.phase, lastSeenAt: r.lastSeenAt?.toISOString() ?? null, kinds: r.kinds,
    }))),
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

/**
 * A heartbeat of an Active cluster: records it as seen (and the kinds it serves, when it says),
 * nothing else (no lock, no fan-out). False when the cluster is not Active (unknown, Unreachable,
 * Removed): the caller decides then.
 */
export const touchActiveCluster = (id: string, seenAt: Date, kinds?: ReadonlyArray<string>) =>
  query((sql) => sql`
    update fabric.clusters set last_seen_at = greatest(coalesce(last_seen_at, ${seenAt}), ${seenAt}),
      served_kinds = coalesce(${kinds === undefined ? null : jsonb(sql, kinds)}::jsonb, served_kinds)
    where id = ${id} and phase = 'Active' returning id`).pipe(Effect.map((rows) => rows.length > 0))

/** Active to Unreachable only if it is still silent since before `silentBefore` (a heartbeat may have come). */
export const markUnreachableIfSilent = (id: string, silentBefore: Date) =>
  query((sql) => sql`
    update fabric.clusters set phase = 'Unreachable'
    where id = ${id} and phase = 'Active' and (last_seen_at is null or last_seen_at < ${silentBefore}) returning id`).pipe(Effect.map((rows) => rows.length > 0))

interface NoticeRow { id: string; clusterId: string; events: ReadonlyArray<MembershipEvent>; audience: NoticeAudience; cursor: string }

/** A notice to the projects being deleted is not written again while one for the cluster is open. */
export const enqueueNotice = (notice: NewMembershipNotice) =>
  query((sql) => sql`
    insert into fabric.membership_notices (cluster_id, events, audience)
    select ${notice.clusterId}, ${jsonb(sql, notice.events)}::jsonb, ${notice.audience}
    where ${notice.audience} = 'live' or not exists (
      select 1 from fabric.membership_notices where cluster_id = ${notice.clusterId} and audience = 'deleting' and done_at is null)`).pipe(Effect.asVoid)

// One advisory-lock key for working off notices: one worker at a time, in notice order.
const noticeWorkerLockKey = 0x6661_6273 // "fabs"

/**
 * Within the current transaction: the oldest open notice, if this transaction may work on it
 * (another worker, in any replica, holding the worker lock means "not now").
 */
export const claimOldestNotice = () =>
  Effect.gen(function* () {
    const [lock] = yield* query((sql) => sql<{ locked: boolean }[]>`select pg_try_advisory_xact_lock(${noticeWorkerLockKey}) as locked`)
    if (!lock?.locked) return undefined
    const rows = yield* query((sql) => sql<NoticeRow[]>`
      select id::text as id, cluster_id as "clusterId", events, audience, cursor from fabric.membership_notices
      where done_at is null order by id limit 1`)
    const row = rows[0]
    return row === undefined ? undefined : ({ id: row.id, clusterId: row.clusterId, events: row.events, audience: row.audience, cursor: row.cursor } satisfies MembershipNotice)
  })

/** The next projects and resources a notice concerns, after its cursor, in id order (every prj_ before every res_). */
export const noticeAudience = (notice: MembershipNotice, limit: number) =>
  query((sql) => notice.audience === "live"
    ? sql<{ id: string }[]>`
        select actor_id as id from fabric.actor_snapshots
        where machine in ('project', 'resource') and status = 'active' and actor_id > ${notice.cursor} order by actor_id limit ${limit}`
    : sql<{ id: string }[]>`
        select id from (select id from fabric.projects where phase = 'Deleting' union all select id from fabric.resources where phase = 'Deleting') deleting
        where id > ${notice.cursor} order by id limit ${limit}`).pipe(
    Effect.map((rows) => rows.map((r) => r.id)),
  )

export const advanceNotice = (id: string, cursor: string, done: boolean) =>
  query((sql) => sql`
    update fabric.membership_notices set cursor = ${cursor}, done_at = ${done ? sql`now()` : null} where id = ${id}`).pipe(Effect.asVoid)

/** MembershipStore on Postgres. */
export const layer = repositoryLayer(MembershipStore, {
  setClusterPhase, listClusters, markRemoved, removedAt, lockMembership, touchActiveCluster, markUnreachableIfSilent,
  enqueueNotice, claimOldestNotice, noticeAudience, advanceNotice,
})
