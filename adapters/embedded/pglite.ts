// The embedded default database: PGlite (Postgres compiled to WASM) with its data under
// FABRIC_DATA_DIR, reached through pglite-socket with the same porsager driver as a real server,
// so every SQL statement Fabric runs is the same in both modes.
//
// pglite-socket shares ONE Postgres session between its connections, so the pool holds exactly
// one connection: concurrent transactions would otherwise interleave inside one session.
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { Effect, Layer } from "effect"
import postgres from "postgres"
import { Unavailable } from "../../src/domain/errors.ts"
import { Database } from "../postgres/database.ts"
import { migrate } from "../postgres/migrate.ts"

export interface PgliteOptions {
  /** A directory (state survives a restart) or undefined for an in-memory database. */
  readonly dataDir: string | undefined
}

export const layer = (options: PgliteOptions) =>
  Layer.effect(
    Database,
    Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const db = await PGlite.create(options.dataDir)
          const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 1 })
          await server.start()
          const [host, port] = server.getServerConn().split(":")
          const pool = postgres({
            host, port: Number(port), database: "postgres", username: "postgres", ssl: false,
            max: 1, onnotice: () => {}, idle_timeout: 0, max_lifetime: null,
          })
          await migrate(pool)
          return { db, server, pool }
        },
        catch: (cause) => new Unavailable({ message: `cannot open embedded database at ${options.dataDir ?? "memory"}: ${(cause as Error).message}` }),
      }),
      ({ db, server, pool }) =>
        Effect.promise(async () => {
          await pool.end({ timeout: 5 })
          await server.stop()
          await db.close()
        }),
    ).pipe(Effect.map(({ pool }) => Database.of({ pool }))),
  )
