// What the Postgres server itself counted for one database: commits and rollbacks
// (pg_stat_database) and rows inserted, updated and deleted per table (pg_stat_user_tables).
// Backends publish their counters when they go idle, at most once a second, and an idle backend
// with counters pending publishes them within 10 s (PGSTAT_IDLE_INTERVAL): read after a quiet
// spell longer than that, or the last writes are missing.
import postgres from "postgres"
import { performance } from "node:perf_hooks"
import { sleep } from "./stats.ts"

export const statsFlushMs = 11_500

export interface TableWrites { readonly inserted: number; readonly updated: number; readonly deleted: number }

export interface PgCounters {
  readonly at: number
  readonly commits: number
  readonly rollbacks: number
  readonly tables: ReadonlyMap<string, TableWrites>
}

export const readCounters = async (databaseUrl: string): Promise<PgCounters> => {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connection: { application_name: "fabric-bench-stats" } })
  try {
    const [db] = await sql<Array<{ commits: string; rollbacks: string }>>`
      select xact_commit as commits, xact_rollback as rollbacks from pg_stat_database where datname = current_database()`
    const tables = await sql<Array<{ name: string; inserted: string; updated: string; deleted: string }>>`
      select schemaname || '.' || relname as name, n_tup_ins as inserted, n_tup_upd as updated, n_tup_del as deleted from pg_stat_user_tables`
    return {
      at: performance.now(),
      commits: Number(db!.commits), rollbacks: Number(db!.rollbacks),
      tables: new Map(tables.map((t) => [t.name, { inserted: Number(t.inserted), updated: Number(t.updated), deleted: Number(t.deleted) }])),
    }
  } finally {
    await sql.end()
  }
}

/** Counters once every backend has published what it did (see above). */
export const settledCounters = async (databaseUrl: string) => {
  await sleep(statsFlushMs)
  return readCounters(databaseUrl)
}

export interface CounterDelta {
  readonly seconds: number
  /** The reading connection's own transactions are taken out. */
  readonly commits: number
  readonly rollbacks: number
  readonly writes: TableWrites
  readonly tables: ReadonlyMap<string, TableWrites>
}

export const delta = (before: PgCounters, after: PgCounters): CounterDelta => {
  const tables = new Map<string, TableWrites>()
  let inserted = 0, updated = 0, deleted = 0
  for (const [name, a] of after.tables) {
    const b = before.tables.get(name) ?? { inserted: 0, updated: 0, deleted: 0 }
    const d = { inserted: a.inserted - b.inserted, updated: a.updated - b.updated, deleted: a.deleted - b.deleted }
    if (d.inserted + d.updated + d.deleted > 0) tables.set(name, d)
    inserted += d.inserted; updated += d.updated; deleted += d.deleted
  }
  // Each reading is two statements in autocommit on its own connection: two commits, counted
  // by the server in the window between two readings.
  return { seconds: (after.at - before.at) / 1000, commits: after.commits - before.commits - 2, rollbacks: after.rollbacks - before.rollbacks, writes: { inserted, updated, deleted }, tables }
}

export const totalWrites = (w: TableWrites) => w.inserted + w.updated + w.deleted

/** "12.0 (ins 8.0, upd 3.0, del 1.0)" per unit. */
export const describeWrites = (w: TableWrites, per: number) =>
  `${(totalWrites(w) / per).toFixed(1)} (ins ${(w.inserted / per).toFixed(1)}, upd ${(w.updated / per).toFixed(1)}, del ${(w.deleted / per).toFixed(1)})`

/** The tables written, most writes first: "fabric.projects 1.0 ins, ...". */
export const describeTables = (tables: ReadonlyMap<string, TableWrites>, per: number) =>
  [...tables.entries()]
    .sort((a, b) => totalWrites(b[1]) - totalWrites(a[1]))
    .map(([name, w]) => `${name} ${[w.inserted && `${(w.inserted / per).toFixed(2)} ins`, w.updated && `${(w.updated / per).toFixed(2)} upd`, w.deleted && `${(w.deleted / per).toFixed(2)} del`].filter(Boolean).join("/")}`)
    .join(", ")
