import { Effect } from "effect"
import type { ClusterPhase, ClusterRecord } from "../../src/domain/project.ts"
import type { ClusterChange } from "../../src/services/state-store.ts"
import { query } from "./database.ts"

/**
 * Moves a cluster from `from` (undefined: not registered) to `to`, only if it is still in `from`
 * (and, with `seenBefore`, still silent since then): the registry reads, decides and writes, while
 * heartbeats, the sweeper and an operator's removal race; the loser sees false and reads again.
 */
export const transitionCluster = (id: string, from: ClusterPhase | undefined, to: ClusterPhase, change: ClusterChange) =>
  query((sql) => from === undefined
    ? sql`insert into fabric.clusters (id, phase, joined_at, last_seen_at) values (${id}, ${to}, now(), ${change.seenAt ?? null})
        on conflict (id) do nothing returning id`
    : sql`update fabric.clusters set phase = ${to}, last_seen_at = coalesce(${change.seenAt ?? null}::timestamptz, last_seen_at)
        where id = ${id} and phase = ${from}
          and (${change.seenBefore ?? null}::timestamptz is null or last_seen_at < ${change.seenBefore ?? null}::timestamptz)
        returning id`).pipe(Effect.map((rows) => rows.length === 1))

export const listClusters = () =>
  query((sql) => sql<{ id: string; phase: ClusterPhase; lastSeenAt: Date | null }[]>`
    select id, phase, last_seen_at as "lastSeenAt" from fabric.clusters order by id`).pipe(
    Effect.map((rows): ReadonlyArray<ClusterRecord> => rows.map((r) => ({ id: r.id, phase: r.phase, lastSeenAt: r.lastSeenAt?.toISOString() ?? null }))),
  )
