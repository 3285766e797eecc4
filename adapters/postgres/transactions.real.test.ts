// A transaction whose connection dies (Postgres restarted, the backend terminated, the network cut)
// fails as Unavailable, or with the body's own failure, and the process lives on. Found by the
// fault campaign (tests/e2e/real/faults.real.test.ts): postgres 3.4.9 writes the next statement
// of a transaction whose connection has closed (Fabric's next query, or the ROLLBACK / COMMIT it
// sends itself) to a null socket from a setImmediate, an uncaught TypeError that ended `fabric rpc`
// on every Postgres restart (porsager/postgres#1208, unfixed upstream). Each case kills its own
// backend with pg_terminate_backend: the shared server is not touched.
import { Effect, Exit, Layer, ManagedRuntime } from "effect"
import postgres from "postgres"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { Conflict } from "../../src/domain/errors.ts"
import { Transactions } from "../../src/services/transactions.ts"
import { freshDatabase } from "../../tests/support/real-engines.ts"
import { waitFor } from "../../tests/support/wait-for.ts"
import { Database, query as rawQuery, transactionsLayer, unavailable } from "./database.ts"

interface Ctx {
  pool: postgres.Sql
  admin: postgres.Sql
  closes: number
  uncaught: unknown[]
  runtime: ManagedRuntime.ManagedRuntime<Transactions | Database, never>
  drop: () => Promise<void>
}

const tx = suite<Ctx>("a transaction whose connection dies")
const recordUncaught = (ctx: Ctx) => (e: unknown) => ctx.uncaught.push(e)
let listener: (e: unknown) => void

tx.before(async (ctx) => {
  const db = await freshDatabase()
  ctx.drop = db.drop
  ctx.closes = 0
  ctx.uncaught = []
  // Without the fix the process would end at the first case; recorded, each case names it instead.
  listener = recordUncaught(ctx)
  process.on("uncaughtException", listener)
  ctx.pool = postgres(db.url, { max: 2, onnotice: () => {}, onclose: () => { ctx.closes++ } })
  ctx.admin = postgres(db.url, { max: 1, onnotice: () => {} })
  await ctx.pool`create table marks (name text primary key)`
  ctx.runtime = ManagedRuntime.make(transactionsLayer.pipe(Layer.provideMerge(Layer.succeed(Database, Database.of({ pool: ctx.pool })))))
})

tx.after(async (ctx) => {
  await ctx.runtime?.dispose()
  await ctx.pool?.end({ timeout: 1 })
  await ctx.admin?.end({ timeout: 1 })
  await ctx.drop?.()
  process.off("uncaughtException", listener)
})

/** A statement as the repositories run it: a database failure is Unavailable to the caller. */
const query = <A>(run: Parameters<typeof rawQuery<A>>[0]) => rawQuery(run).pipe(Effect.mapError(unavailable))

const backendPid = query((sql) => sql<{ pid: number }[]>`select pg_backend_pid() as pid`).pipe(Effect.map(([row]) => row!.pid))

/** Terminates the backend and resolves once the client has seen its connection close. */
const kill = async (ctx: Ctx, pid: number) => {
  const before = ctx.closes
  await ctx.admin`select pg_terminate_backend(${pid})`
  await waitFor(`the client to see backend ${pid} close`, async () => (ctx.closes > before ? true : undefined), 10_000, 5)
}

const run = <A, E>(ctx: Ctx, effect: Effect.Effect<A, E, Database>) =>
  ctx.runtime.runPromiseExit(Transactions.use((t) => t.transactionally(effect)))

// postgres 3.4.9 keeps the FATAL a terminated session sent ("terminating connection due to
// administrator command", 57P01) and fails the first statement of that connection's next session
// with it. Not the bug under test (callers retry an Unavailable), so a check may meet it once.
const staleFatal = /terminating connection due to administrator command/
const once = async <A>(attempt: () => Promise<A>, failed: (a: A) => string | undefined): Promise<A> => {
  const first = await attempt().then((a) => ({ a }), (e: unknown) => ({ e }))
  const why = "e" in first ? String(first.e) : failed(first.a)
  if (why === undefined) return (first as { a: A }).a
  assert.match(why, staleFatal, "the only failure allowed is postgres' stale FATAL")
  return attempt()
}
const countOf = async (ctx: Ctx, name: string) =>
  (await once(() => ctx.pool`select count(*)::int as n from marks where name = ${name}`, () => undefined))[0]!.n as number

/** The process lived (no uncaught error) and the pool still commits a transaction. */
const poolStillWorks = async (ctx: Ctx, name: string) => {
  await new Promise((r) => setTimeout(r, 50)) // a setImmediate queued by the failure has run by now
  assert.equal(ctx.uncaught.map(String), [], "uncaught errors")
  const exit = await once(() => run(ctx, query((sql) => sql`insert into marks values (${name})`)), (e) => (Exit.isFailure(e) ? String(e) : undefined))
  assert.ok(Exit.isSuccess(exit), String(exit))
  assert.is(await countOf(ctx, name), 1)
}

const failureTag = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) ? (exit.cause.toString().match(/Unavailable|Conflict/)?.[0] ?? exit.cause.toString()) : "success"

tx("a statement running when the connection dies: Unavailable", async (ctx) => {
  const exit = await run(ctx, Effect.gen(function* () {
    const pid = yield* backendPid
    setTimeout(() => void ctx.admin`select pg_terminate_backend(${pid})`.then(() => undefined), 200)
    yield* query((sql) => sql`select pg_sleep(10)`)
  }))
  assert.is(failureTag(exit), "Unavailable")
  await poolStillWorks(ctx, "after-running")
})

tx("the connection dies between two statements: the second is refused without reaching the dead connection", async (ctx) => {
  const exit = await run(ctx, Effect.gen(function* () {
    const pid = yield* backendPid
    yield* Effect.promise(() => kill(ctx, pid))
    yield* query((sql) => sql`insert into marks values ('between')`)
  }))
  assert.is(failureTag(exit), "Unavailable")
  assert.is(await countOf(ctx, "between"), 0)
  await poolStillWorks(ctx, "after-between")
})

// The body ends after its connection died, either way: the loss is what the caller hears, and
// neither the ROLLBACK nor the COMMIT porsager would send reaches the dead connection.
const endings: ReadonlyArray<readonly [title: string, mark: string, ending: Effect.Effect<string, Conflict>]> = [
  ["the body fails after its connection died: Unavailable (the loss came first), no ROLLBACK sent to it, nothing committed",
    "refused", Effect.fail(new Conflict({ message: "decided after the connection died" }))],
  ["the body succeeds but its connection died before the commit: Unavailable, no COMMIT sent to it, nothing committed",
    "uncommitted", Effect.succeed("done")],
]
for (const [title, mark, ending] of endings) {
  tx(title, async (ctx) => {
    const exit = await run(ctx, Effect.gen(function* () {
      yield* query((sql) => sql`insert into marks values (${mark})`)
      const pid = yield* backendPid
      yield* Effect.promise(() => kill(ctx, pid))
      return yield* ending
    }))
    assert.is(failureTag(exit), "Unavailable")
    assert.is(await countOf(ctx, mark), 0)
    await poolStillWorks(ctx, `after-${mark}`)
  })
}

tx("a live transaction still commits, and still rolls back on the body's failure", async (ctx) => {
  const committed = await run(ctx, query((sql) => sql`insert into marks values ('kept')`))
  assert.ok(Exit.isSuccess(committed))
  const refused = await run(ctx, Effect.gen(function* () {
    yield* query((sql) => sql`insert into marks values ('rolled-back')`)
    return yield* new Conflict({ message: "no" })
  }))
  assert.is(failureTag(refused), "Conflict")
  assert.equal((await ctx.pool`select name from marks where name in ('kept', 'rolled-back') order by name`).map((r) => r.name), ["kept"])
  assert.equal(ctx.uncaught.map(String), [])
})

tx.run()
