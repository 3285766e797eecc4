import type postgres from "postgres"
import demeter from "./migrations/001_demeter.ts"
import fabric from "./migrations/002_fabric.ts"
import actorEvents from "./migrations/003_actor_events.ts"
import notificationsRetention from "./migrations/004_notifications_retention.ts"
import membershipNotices from "./migrations/005_membership_notices.ts"
import debugSessionRevocations from "./migrations/006_debug_session_revocations.ts"
import resources from "./migrations/007_resources.ts"
import clusterRemovedAt from "./migrations/008_cluster_removed_at.ts"

/** Numbered, append-only: a landed migration is never edited; a change is a new entry. */
export const migrations: ReadonlyArray<readonly [string, string]> = [
  ["001_demeter", demeter],
  ["002_fabric", fabric],
  ["003_actor_events", actorEvents],
  ["004_notifications_retention", notificationsRetention],
  ["005_membership_notices", membershipNotices],
  ["006_debug_session_revocations", debugSessionRevocations],
  ["007_resources", resources],
  ["008_cluster_removed_at", clusterRemovedAt],
]

/** Applies what is missing, once, even with several processes starting together (advisory lock). */
export const migrate = async (pool: postgres.Sql): Promise<ReadonlyArray<string>> =>
  pool.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(727274)`
    await tx`create table if not exists public.fabric_migrations (id text primary key, applied_at timestamptz not null default now())`
    const done = new Set((await tx<{ id: string }[]>`select id from public.fabric_migrations`).map((r) => r.id))
    const applied: string[] = []
    for (const [id, ddl] of migrations) {
      if (done.has(id)) continue
      await tx.unsafe(ddl)
      await tx`insert into public.fabric_migrations (id) values (${id})`
      applied.push(id)
    }
    return applied
  })
