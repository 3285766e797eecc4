// Transactions.undoable on the embedded database: a failed try inside a transaction undoes its own
// writes (and drops its commit writes) and nothing else, which is what lets the actor host retry a
// lost compare-and-set inside a caller's transaction without leaving a stale read model behind.
import { Effect, Layer, ManagedRuntime, Schema } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import * as pglite from "../embedded/pglite.ts"
import { Transactions } from "../../src/services/transactions.ts"
import { Database, query, transactionsLayer } from "./database.ts"

class TryFailed extends Schema.TaggedError<TryFailed>()("TryFailed", {}) {}

const layer = transactionsLayer.pipe(Layer.provideMerge(pglite.layer({ dataDir: undefined })))
const rows = query((sql) => sql<{ n: number; at: string }[]>`select n, at from undoable_rows order by n`).pipe(Effect.map((r) => r.map((x) => `${x.n}:${x.at}`)))
const insert = (n: number, at = "body") => query((sql) => sql`insert into undoable_rows (n, at) values (${n}, ${at})`)

// One database for the file (opening PGlite and migrating it takes a while).
const runtime = ManagedRuntime.make(layer)
const run = <A, E>(effect: Effect.Effect<A, E, Transactions | Database>) => runtime.runPromise(effect)
test.after(() => runtime.dispose())

test("inside a transaction: the failed try's writes and commit writes are gone, the transaction's own and a later try's stay", () =>
  run(Effect.gen(function* () {
    const transactions = yield* Transactions
    yield* query((sql) => sql`create table undoable_rows (n int, at text)`)
    yield* transactions.transactionally(Effect.gen(function* () {
      yield* insert(1)
      const failed = yield* transactions.undoable(Effect.gen(function* () {
        yield* insert(2)
        yield* transactions.atCommit(insert(20, "commit"))
        return yield* new TryFailed()
      })).pipe(Effect.flip)
      assert.is(failed._tag, "TryFailed")
      assert.equal(yield* rows, ["1:body"], "the failed try's row is undone at once")
      yield* transactions.undoable(Effect.gen(function* () {
        yield* insert(3)
        yield* transactions.atCommit(insert(30, "commit"))
      }))
      yield* insert(4)
    }))
    assert.equal(yield* rows, ["1:body", "3:body", "4:body", "30:commit"])
  })))

test("outside a transaction it is one: a failure rolls all of it back", () =>
  run(Effect.gen(function* () {
    const transactions = yield* Transactions
    yield* query((sql) => sql`delete from undoable_rows`)
    yield* transactions.undoable(Effect.andThen(insert(5), new TryFailed())).pipe(Effect.flip)
    assert.equal(yield* rows, [])
    yield* transactions.undoable(insert(6))
    assert.equal(yield* rows, ["6:body"])
  })))

test.run()
