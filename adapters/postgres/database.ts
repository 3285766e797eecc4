import { Context, Effect, Exit, Layer, Schema } from "effect"
import type postgres from "postgres"
import { describeConnectError, openPostgres } from "./connection.ts"
import { Unavailable } from "../../src/domain/errors.ts"
import { Transactions } from "../../src/services/transactions.ts"
import { migrate } from "./migrate.ts"

export type Sql = postgres.Sql | postgres.TransactionSql

/** The connection pool shared by every Postgres-backed service of the process. */
export class Database extends Context.Service<Database, { readonly pool: postgres.Sql }>()("fabric/adapters/Database") {}

/** The transaction the current fiber runs in, if any: repositories use it instead of the pool. */
const CurrentTransaction = Context.Reference<postgres.TransactionSql | undefined>(
  "fabric/adapters/CurrentTransaction",
  { defaultValue: () => undefined },
)

/** Writes registered with Transactions.atCommit in the current transaction, run before its commit. */
const CommitWrites = Context.Reference<Array<Effect.Effect<void, unknown>> | undefined>(
  "fabric/adapters/CommitWrites",
  { defaultValue: () => undefined },
)

const jsonbTypeOid = 3802

/**
 * A jsonb parameter: the one `sql.json` makes (tagged with jsonb's type oid, serialized with
 * JSON.stringify), for values the domain types as `unknown` or as interfaces (snapshots, events,
 * response bodies, membership events), which `sql.json`'s JSONValue parameter type does not take.
 */
export const jsonb = (sql: Sql, value: unknown) => sql.typed(value, jsonbTypeOid)

/** Postgres error codes the domain reacts to. */
export const pgCodes = { uniqueViolation: "23505", serializationFailure: "40001" } as const

export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  message: Schema.String,
  code: Schema.optional(Schema.String),
  constraint: Schema.optional(Schema.String),
}) {}

const toDatabaseError = (cause: unknown): DatabaseError => {
  const e = cause as { message?: string; code?: string; constraint_name?: string }
  return new DatabaseError({ message: e?.message ?? String(cause), code: e?.code, constraint: e?.constraint_name })
}

/**
 * Runs one query on the current transaction, or on the pool outside one. Driver failures
 * become DatabaseError; callers map the ones the domain cares about (unique violations).
 */
export const query = <A>(run: (sql: Sql) => PromiseLike<A>): Effect.Effect<A, DatabaseError, Database> =>
  Effect.gen(function* () {
    const tx = yield* CurrentTransaction
    const sql = tx ?? (yield* Database).pool
    return yield* Effect.tryPromise({ try: () => run(sql), catch: toDatabaseError })
  })

/** A DatabaseError the domain does not handle is a dependency outage for the caller. */
export const unavailable = (e: DatabaseError): Unavailable => new Unavailable({ message: `database: ${e.message}` })

class Rollback {
  readonly exit: Exit.Exit<unknown, unknown>
  constructor(exit: Exit.Exit<unknown, unknown>) {
    this.exit = exit
  }
}

export const transactionsLayer = Layer.effect(
  Transactions,
  Effect.gen(function* () {
    const { pool } = yield* Database
    const transactionally = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | Unavailable, R> =>
      Effect.gen(function* () {
        if (yield* CurrentTransaction) return yield* effect
        const context = yield* Effect.context<R>()
        const outcome = yield* Effect.tryPromise({
          try: () =>
            pool.begin(async (tx) => {
              const atCommit: Array<Effect.Effect<void, unknown>> = []
              const body = Effect.gen(function* () {
                const value = yield* effect
                for (const write of atCommit) yield* write
                return value
              })
              const exit = await Effect.runPromiseExitWith(context)(body.pipe(Effect.provideService(CurrentTransaction, tx), Effect.provideService(CommitWrites, atCommit)))
              // Throwing makes porsager roll back; the exit travels with it untouched.
              if (Exit.isFailure(exit)) throw new Rollback(exit)
              return [exit.value] as const
            }),
          catch: (cause) => (cause instanceof Rollback ? cause : unavailable(toDatabaseError(cause))),
        }).pipe(Effect.catch((e) => (e instanceof Rollback ? Effect.succeed(e) : Effect.fail(e))))
        if (outcome instanceof Rollback) return yield* (outcome.exit as Exit.Exit<A, E>)
        return outcome[0] as A
      })
    // The write's failure is typed here, at registration, though it happens at the commit: the
    // enclosing transactionally fails with it.
    const atCommit = <E, R>(write: Effect.Effect<void, E, R>): Effect.Effect<void, E, R> =>
      Effect.gen(function* () {
        const queue = yield* CommitWrites
        if (queue === undefined) return yield* write
        queue.push(Effect.provideContext(write, yield* Effect.context<R>()))
      })
    return Transactions.of({ transactionally, atCommit })
  }),
)

export interface PostgresOptions {
  readonly url: string
  readonly max?: number
}

/** A pool, and how to close it with whatever it runs over. */
export interface OpenedPool {
  readonly pool: postgres.Sql
  readonly close: () => Promise<void>
}

/**
 * The Database over the pool `open` makes: migrations run before the layer is ready, and the pool
 * closes with the layer's scope, or at once when the migrations fail. Any failure to open is
 * Unavailable, naming `what` was being opened.
 */
export const migratedLayer = (what: string, open: () => Promise<OpenedPool>) =>
  Layer.effect(
    Database,
    Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const opened = await open()
          await migrate(opened.pool).catch(async (error: unknown) => {
            await opened.close()
            throw error
          })
          return opened
        },
        catch: (cause) => new Unavailable({ message: `cannot open ${what}: ${describeConnectError(cause)}` }),
      }),
      (opened) => Effect.promise(opened.close),
    ).pipe(Effect.map(({ pool }) => Database.of({ pool }))),
  )

/** A real Postgres server (`DATABASE_URL`). */
export const layerUrl = (options: PostgresOptions) =>
  migratedLayer("database", async () => {
    const pool = openPostgres(options.url, { max: options.max ?? 10, onnotice: () => {}, connection: { application_name: "fabric" } })
    return { pool, close: () => pool.end({ timeout: 5 }) }
  })
