import { Effect } from "effect"
import { ActorSnapshots, SnapshotVersionConflict, type ActorEvent, type ActorSummary, type MachineKind, type SnapshotWrite } from "../../src/services/actor-snapshots.ts"
import { jsonb, pgCodes, query } from "./database.ts"
import { repositoryLayer } from "./repository-layer.ts"

export const loadSnapshot = (actorId: string) =>
  query((sql) => sql<{ version: string; snapshot: unknown }[]>`
    select version, snapshot from fabric.actor_snapshots where actor_id = ${actorId}`).pipe(
    Effect.map((rows) => (rows[0] ? { version: Number(rows[0].version), snapshot: rows[0].snapshot } : undefined)),
  )

export const actorHistory = (actorId: string, limit: number) =>
  query((sql) => sql<{ version: string; event: unknown; state: unknown; createdAt: Date }[]>`
    select version, event, state, created_at as "createdAt" from fabric.actor_events
    where actor_id = ${actorId} order by version desc limit ${limit}`).pipe(
    Effect.map((rows): ReadonlyArray<ActorEvent> => rows.map((r) => ({ version: Number(r.version), event: r.event, state: r.state, at: r.createdAt.toISOString() }))),
  )

export const listActors = (options: { machine?: MachineKind; limit: number }) =>
  query((sql) => sql<{ actorId: string; machine: MachineKind; status: "active" | "done"; version: string; state: unknown; updatedAt: Date }[]>`
    select actor_id as "actorId", machine, status, version, snapshot->'value' as state, updated_at as "updatedAt"
    from fabric.actor_snapshots ${options.machine ? sql`where machine = ${options.machine}` : sql``}
    order by updated_at desc limit ${options.limit}`).pipe(
    Effect.map((rows): ReadonlyArray<ActorSummary> => rows.map((r) => ({ ...r, version: Number(r.version), updatedAt: r.updatedAt.toISOString() }))),
  )

/**
 * Compare-and-set on version: the write lands only if nobody saved the actor since it was loaded.
 * The snapshot and its history row are ONE statement (one round trip, same transaction).
 */
export const saveSnapshot = (w: SnapshotWrite) =>
  Effect.gen(function* () {
    const now = new Date()
    const saved = yield* query((sql) => w.expectedVersion === undefined
      ? sql<{ version: string }[]>`
          with saved as (
            insert into fabric.actor_snapshots (actor_id, machine, version, status, snapshot, updated_at)
            values (${w.actorId}, ${w.machine}, 1, ${w.status}, ${jsonb(sql, w.snapshot)}, ${now})
            on conflict (actor_id) do nothing returning version)
          insert into fabric.actor_events (actor_id, version, event, state)
          select ${w.actorId}, version, ${jsonb(sql, w.event)}, ${jsonb(sql, w.state)} from saved
          returning version`
      : sql<{ version: string }[]>`
          with saved as (
            update fabric.actor_snapshots set version = version + 1, status = ${w.status}, snapshot = ${jsonb(sql, w.snapshot)}, updated_at = ${now}
            where actor_id = ${w.actorId} and version = ${w.expectedVersion} returning version)
          insert into fabric.actor_events (actor_id, version, event, state)
          select ${w.actorId}, version, ${jsonb(sql, w.event)}, ${jsonb(sql, w.state)} from saved
          returning version`)
    if (saved.length === 0) return yield* new SnapshotVersionConflict({ actorId: w.actorId })
    return Number(saved[0]!.version)
  }).pipe(Effect.catchIf((e) => e._tag === "DatabaseError" && e.code === pgCodes.uniqueViolation, () => Effect.fail(new SnapshotVersionConflict({ actorId: w.actorId }))))

/** ActorSnapshots on Postgres. */
export const layer = repositoryLayer(ActorSnapshots, { loadSnapshot, saveSnapshot, actorHistory, listActors })
