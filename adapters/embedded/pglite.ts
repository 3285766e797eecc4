// The embedded default database: PGlite (Postgres compiled to WASM) with its data under
// FABRIC_DATA_DIR, reached in process (pglite-wire.ts) with the same porsager driver as a real
// server, so every SQL statement Fabric runs is the same in both modes.
//
// PGlite is ONE Postgres session, so the pool holds exactly one connection: concurrent
// transactions would otherwise interleave inside one session. porsager queues everyone else's
// statements while a transaction holds that connection, provided BEGIN reserved it; an unbounded
// pipeline and a socket without backpressure make sure it always does (see pglite-wire.ts).
import { PGlite } from "@electric-sql/pglite"
import postgres from "postgres"
import { migratedLayer } from "../postgres/database.ts"
import { PgliteWire } from "./pglite-wire.ts"

export interface PgliteOptions {
  /** A directory (state survives a restart) or undefined for an in-memory database. */
  readonly dataDir: string | undefined
}

/** The one connection to a PGlite database, as the porsager pool every adapter uses. */
const pgliteSql = (db: PGlite): postgres.Sql => {
  // porsager reads these two but leaves them out of its type declarations
  const undeclared = { socket: () => new PgliteWire(db), max_pipeline: Number.POSITIVE_INFINITY }
  const options: postgres.Options<{}> = {
    database: "postgres", username: "postgres", ssl: false, max: 1,
    onnotice: () => {}, idle_timeout: 0, max_lifetime: null,
  }
  return postgres({ ...options, ...undeclared })
}

export const layer = (options: PgliteOptions) =>
  migratedLayer(`embedded database at ${options.dataDir ?? "memory"}`, async () => {
    const db = await PGlite.create(options.dataDir)
    const pool = pgliteSql(db)
    return {
      pool,
      close: async () => {
        await pool.end({ timeout: 5 })
        await db.close()
      },
    }
  })
