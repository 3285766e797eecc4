// The embedded database serves ONE Postgres session: a transaction must hold it alone, however
// many statements of other callers are pipelined around it.
import { Effect } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { Database } from "../postgres/database.ts"
import * as pglite from "./pglite.ts"

const unhandled: Array<unknown> = []
process.on("unhandledRejection", (reason) => void unhandled.push(reason))

test("a transaction begun behind a full pipeline reserves the session: it fails alone and swallows no other caller's statements", () =>
  Effect.runPromise(
    Effect.gen(function* () {
      const { pool } = yield* Database
      yield* Effect.promise(async () => {
        await pool`create table outside_rows (n int)`
        await pool`create table inside_rows (n int)`
        let outsideInserts = 0
        // porsager pipelines up to 100 statements on a connection by default; BEGIN at and
        // around that boundary used to go out without reserving the connection
        for (let pipelined = 95; pipelined <= 105; pipelined++) {
          // .then sends a porsager query (it is lazy until then)
          const plain = Array.from({ length: pipelined }, () => pool`select 1`.then(() => {}))
          const transaction = pool
            .begin(async (tx) => {
              await tx`insert into inside_rows values (1)`
              throw new Error("rolled back on purpose")
            })
            .then(() => "committed", (e: Error) => e.message)
          const seenInside: Array<number> = []
          const outside = Array.from({ length: 10 }, (_, i) =>
            i % 2 === 0
              ? pool`insert into outside_rows values (1)`.then(() => void outsideInserts++)
              : pool<{ n: number }[]>`select count(*)::int as n from inside_rows`.then((rows) => void seenInside.push(rows[0]!.n)),
          )
          assert.is(await transaction, "rolled back on purpose", `with ${pipelined} statements ahead of BEGIN`)
          await Promise.all([...plain, ...outside])
          assert.equal(seenInside.filter((n) => n > 0), [], "no outside statement ran inside the transaction")
        }
        const [{ n }] = await pool<{ n: number }[]>`select count(*)::int as n from outside_rows` as unknown as [{ n: number }]
        assert.is(n, outsideInserts, "every outside insert is there: none was rolled back with a transaction")
        assert.equal(unhandled, [])
      })
    }).pipe(Effect.provide(pglite.layer({ dataDir: undefined }))),
  ))

test.run()
