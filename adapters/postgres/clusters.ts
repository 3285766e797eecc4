import { Effect } from "effect"
import type { ClusterPhase, ClusterRecord } from "../../src/domain/project.ts"
import { query } from "./database.ts"

export const upsertCluster = (id: string, phase: ClusterPhase, seenAt: Date | undefined) =>
  query((sql) => sql`
    insert into fabric.clusters (id, phase, joined_at, last_seen_at) values (${id}, ${phase}, now(), ${seenAt ?? null})
    on conflict (id) do update set phase = excluded.phase,
      last_seen_at = coalesce(excluded.last_seen_at, fabric.clusters.last_seen_at)`).pipe(Effect.asVoid)

export const listClusters = () =>
  query((sql) => sql<{ id: string; phase: ClusterPhase; lastSeenAt: Date | null }[]>`
    select id, phase, last_seen_at as "lastSeenAt" from fabric.clusters order by id`).pipe(
    Effect.map((rows): ReadonlyArray<ClusterRecord> => rows.map((r) => ({ id: r.id, phase: r.phase, lastSeenAt: r.lastSeenAt?.toISOString() ?? null }))),
  )
