import { Context, Effect, Exit, Layer, Schema } from "effect"
import type postgres from "postgres"
import { describeConnectError, openPostgres } from "./connection.ts"
import { Unavailable } from "../../src/domain/errors.ts"
import { Transactions } from "../../src/services/transactions.ts"
import { migrate } from "./migrate.ts"

export type Sql = postgres.Sql | postgres.TransactionSql

/** The connection pool shared by every Postgres-backed service of the process. */
export class Database extends Context.Service<Database, { readonly pool: postgres.Sql }>()("fabric/adapters/Database") {}

/**
 * A transaction's connection, and whether it is known to be gone: then no statement may be handed
 * to porsager for it again (see runTransaction).
 */
interface OpenTransaction {
  readonly sql: postgres.TransactionSql
  /** The connection failure that ended it (closed, reset), once one was seen. */
  lost: unknown
}

/** The transaction the current fiber runs in, if any: repositories use it instead of the pool. */
const CurrentTransaction = Context.Reference<OpenTransaction | undefined>(
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
    if (tx === undefined) {
      const { pool } = yield* Database
      return yield* Effect.tryPromise({ try: () => run(pool), catch: toDatabaseError })
    }
    if (tx.lost !== undefined) return yield* Effect.fail(toDatabaseError(tx.lost))
    return yield* Effect.tryPromise({
      try: () => run(tx.sql),
      catch: (cause) => {
        // marked before anything else in the transaction runs: its next statement is refused here
        if (isConnectionFailure(cause)) tx.lost ??= cause
        return toDatabaseError(cause)
      },
    })
  })

/**
 * The connection is gone, not the statement refused: porsager's own errors (CONNECTION_CLOSED,
 * CONNECTION_DESTROYED, ...), the socket's (ECONNRESET, EPIPE, ...), and the server's FATAL errors
 * that end the session: class 08 (connection exception), 57P01-57P05 (shutdown, crash shutdown,
 * cannot connect now, database dropped, idle session timeout; a restart sends 57P01 to every
 * session), 25P03 (idle in transaction timeout). Any other SQLSTATE refuses only the statement.
 */
const isConnectionFailure = (cause: unknown): boolean => {
  const code = (cause as { code?: unknown } | null)?.code
  return typeof code === "string" && (code.startsWith("CONNECTION_") || /^E[A-Z]+$/.test(code) || /^08...$|^57P0[1-5]$|^25P03$/.test(code))
}

/** A DatabaseError the domain does not handle is a dependency outage for the caller. */
export const unavailable = (e: DatabaseError): Unavailable => new Unavailable({ message: `database: ${e.message}` })

class Rollback {
  readonly exit: Exit.Exit<unknown, unknown>
  constructor(exit: Exit.Exit<unknown, unknown>) {
    this.exit = exit
  }
}

/**
 * One transaction on porsager's pool.begin, safe when its connection dies midway. postgres 3.4.9
 * (porsager/postgres#1208, unfixed upstream) hands any statement given to a transaction whose
 * connection has closed to a write scheduled with setImmediate on a socket that is null by then:
 * an uncaught TypeError that ends the process. Two statements can reach it: the body's next query
 * (refused in `query` once the loss is known) and the ROLLBACK or COMMIT porsager sends itself
 * when the callback settles. So once the connection is known lost, the callback never settles
 * (porsager has nothing left to send; the server rolls an ended session back by itself), and the
 * transaction is Unavailable: nothing was committed. The loss is known from porsager's race of the
 * callback with the connection's close (pool.begin rejects at once, while the body may still run:
 * its next query is refused here), or from a query that failed with a connection error; a body
 * that has failed by then keeps its own failure.
 */
const runTransaction = <A>(pool: postgres.Sql, body: (tx: OpenTransaction) => Promise<Exit.Exit<A, unknown>>): Promise<Exit.Exit<A, unknown>> =>
  runGuarded((callback) => pool.begin(callback), (sql) => ({ sql, lost: undefined }), body)

/**
 * A savepoint of `tx` (Transactions.undoable), on the same guard: porsager sends its RELEASE or
 * ROLLBACK TO itself when the callback settles. Its statements mark a lost connection on the
 * transaction, so the enclosing one is refused and abandoned too.
 */
const runSavepoint = <A>(tx: OpenTransaction, body: (tx: OpenTransaction) => Promise<Exit.Exit<A, unknown>>): Promise<Exit.Exit<A, unknown>> =>
  runGuarded(
    (callback) => tx.sql.savepoint(callback),
    (sql) => ({ sql, get lost() { return tx.lost }, set lost(cause) { tx.lost = cause } }),
    body,
  )

type Settled<A> = readonly [Exit.Exit<A, unknown>]

const runGuarded = <A>(
  begin: (callback: (sql: postgres.TransactionSql) => Promise<Settled<A>>) => Promise<Settled<A>>,
  open: (sql: postgres.TransactionSql) => OpenTransaction,
  body: (tx: OpenTransaction) => Promise<Exit.Exit<A, unknown>>,
): Promise<Exit.Exit<A, unknown>> => {
  let settle!: (exit: Exit.Exit<A, unknown>) => void
  const abandoned = new Promise<Exit.Exit<A, unknown>>((resolve) => (settle = resolve))
  let opened: OpenTransaction | undefined
  const begun = begin(async (sql) => {
    const tx = (opened = open(sql))
    const exit = await body(tx)
    if (tx.lost !== undefined) {
      settle(Exit.isFailure(exit) ? exit : Exit.fail(unavailable(toDatabaseError(tx.lost))))
      return new Promise<never>(() => {})
    }
    // Throwing makes porsager roll back; the exit travels with it untouched.
    if (Exit.isFailure(exit)) throw new Rollback(exit)
    return [exit] as const
  }).then(
    ([exit]) => exit,
    (cause: unknown) => {
      if (cause instanceof Rollback) return cause.exit as Exit.Exit<A, unknown>
      if (opened !== undefined && isConnectionFailure(cause)) opened.lost ??= cause
      return Exit.fail(unavailable(toDatabaseError(cause)))
    },
  )
  return Promise.race([begun, abandoned])
}

export const transactionsLayer = Layer.effect(
  Transactions,
  Effect.gen(function* () {
    const { pool } = yield* Database
    const transactionally = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | Unavailable, R> =>
      Effect.gen(function* () {
        if (yield* CurrentTransaction) return yield* effect
        const context = yield* Effect.context<R>()
        const exit = yield* Effect.promise(() =>
          runTransaction(pool, (tx) => {
            const atCommit: Array<Effect.Effect<void, unknown>> = []
            const body = Effect.gen(function* () {
              const value = yield* effect
              for (const write of atCommit) yield* write
              return value
            })
            return Effect.runPromiseExitWith(context)(body.pipe(Effect.provideService(CurrentTransaction, tx), Effect.provideService(CommitWrites, atCommit)))
          }),
        )
        return yield* (exit as Exit.Exit<A, E | Unavailable>)
      })
    const undoable = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | Unavailable, R> =>
      Effect.gen(function* () {
        const tx = yield* CurrentTransaction
        if (tx === undefined) return yield* transactionally(effect)
        if (tx.lost !== undefined) return yield* Effect.fail(unavailable(toDatabaseError(tx.lost)))
        const context = yield* Effect.context<R>()
        const outer = yield* CommitWrites
        // The try's own commit writes join the transaction's only if the try succeeds.
        const atCommit: Array<Effect.Effect<void, unknown>> = []
        const exit = yield* Effect.promise(() =>
          runSavepoint(tx, (inner) =>
            Effect.runPromiseExitWith(context)(effect.pipe(Effect.provideService(CurrentTransaction, inner), Effect.provideService(CommitWrites, atCommit)))))
        if (Exit.isSuccess(exit)) outer?.push(...atCommit)
        return yield* (exit as Exit.Exit<A, E | Unavailable>)
      })
    // The write's failure is typed here, at registration, though it happens at the commit: the
    // enclosing transactionally fails with it.
    const atCommit = <E, R>(write: Effect.Effect<void, E, R>): Effect.Effect<void, E, R> =>
      Effect.gen(function* () {
        const queue = yield* CommitWrites
        if (queue === undefined) return yield* write
        queue.push(Effect.provideContext(write, yield* Effect.context<R>()))
      })
    return Transactions.of({ transactionally, atCommit, undoable })
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
