import { Effect } from "effect"
import { SnapshotVersionConflict, type SnapshotWrite } from "../../src/services/state-store.ts"
import { pgCodes, query } from "./database.ts"

export const loadSnapshot = (actorId: string) =>
  query((sql) => sql<{ version: string; snapshot: unknown }[]>`
    select version, snapshot from fabric.actor_snapshots where actor_id = ${actorId}`).pipe(
    Effect.map((rows) => (rows[0] ? { version: Number(rows[0].version), snapshot: rows[0].snapshot } : undefined)),
  )

/** Compare-and-set on version: the write lands only if nobody saved the actor since it was loaded. */
export const saveSnapshot = (w: SnapshotWrite) =>
  Effect.gen(function* () {
    const now = new Date()
    if (w.expectedVersion === undefined) {
      const inserted = yield* query((sql) => sql`
        insert into fabric.actor_snapshots (actor_id, machine, version, status, snapshot, updated_at)
        values (${w.actorId}, ${w.machine}, 1, ${w.status}, ${sql.json(w.snapshot as never)}, ${now})
        on conflict (actor_id) do nothing returning version`)
      if (inserted.length === 0) return yield* new SnapshotVersionConflict({ actorId: w.actorId })
      return 1
    }
    const expected = w.expectedVersion
    const updated = yield* query((sql) => sql<{ version: string }[]>`
      update fabric.actor_snapshots set version = version + 1, status = ${w.status}, snapshot = ${sql.json(w.snapshot as never)}, updated_at = ${now}
      where actor_id = ${w.actorId} and version = ${expected} returning version`)
    if (updated.length === 0) return yield* new SnapshotVersionConflict({ actorId: w.actorId })
    return Number(updated[0]!.version)
  }).pipe(Effect.catchIf((e) => e._tag === "DatabaseError" && e.code === pgCodes.uniqueViolation, () => Effect.fail(new SnapshotVersionConflict({ actorId: w.actorId }))))

export const activeActors = (machine: "account" | "project") =>
  query((sql) => sql<{ actorId: string }[]>`
    select actor_id as "actorId" from fabric.actor_snapshots where machine = ${machine} and status = 'active' order by actor_id`).pipe(
    Effect.map((rows) => rows.map((r) => r.actorId)),
  )
