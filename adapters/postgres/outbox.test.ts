// The Outbox store hands the relay its rows oldest first, as numbers order, whatever their
// number of digits: a project's newer desired state must never go out before an older one.
import { Effect, Layer } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import * as pglite from "../embedded/pglite.ts"
import { Outbox } from "../../src/services/outbox.ts"
import * as outbox from "./outbox.ts"

test("pendingOutbox returns unsent rows in id order across a change of digits (9 before 10), and markSent takes them out", () =>
  Effect.runPromise(
    Effect.gen(function* () {
      const store = yield* Outbox
      for (let generation = 1; generation <= 12; generation++) {
        yield* store.enqueue([{ topic: "fabric.projects", key: "prj_one", value: `generation ${generation}`, headers: {} }])
      }
      const rows = yield* store.pendingOutbox(100)
      assert.equal(rows.map((r) => r.value), Array.from({ length: 12 }, (_, i) => `generation ${i + 1}`))
      assert.equal(rows.map((r) => Number(r.id)), [...rows.map((r) => Number(r.id))].sort((a, b) => a - b))
      yield* store.markSent(rows.slice(0, 10).map((r) => r.id))
      assert.equal((yield* store.pendingOutbox(100)).map((r) => r.value), ["generation 11", "generation 12"])
    }).pipe(Effect.provide(outbox.layer.pipe(Layer.provideMerge(pglite.layer({ dataDir: undefined }))))),
  ))

test.run()
