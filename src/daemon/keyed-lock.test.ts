// The per-project lock of the daemon: one project's work never overlaps, different projects'
// work does, and drift's `ifFree` leaves a busy project alone instead of queueing behind it.
import { Deferred, Effect, Fiber, Option } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { KeyedLock } from "./keyed-lock.ts"

test("the same key waits for its holder; another key runs meanwhile", async () => {
  const events: string[] = []
  await Effect.runPromise(Effect.gen(function* () {
    const lock = new KeyedLock()
    const release = yield* Deferred.make<void>()
    const entered = yield* Deferred.make<void>()
    const first = yield* Effect.forkChild(lock.withLock("prj_a")(Effect.gen(function* () {
      events.push("a1 start")
      yield* Deferred.succeed(entered, undefined)
      yield* Deferred.await(release)
      events.push("a1 end")
    })))
    yield* Deferred.await(entered)
    const second = yield* Effect.forkChild(lock.withLock("prj_a")(Effect.sync(() => events.push("a2"))))
    yield* lock.withLock("prj_b")(Effect.sync(() => events.push("b while a1 holds")))
    yield* Effect.yieldNow
    assert.is(lock.size, 1, "prj_a is held and awaited; prj_b is gone once done")
    yield* Deferred.succeed(release, undefined)
    yield* Fiber.join(first)
    yield* Fiber.join(second)
    assert.is(lock.size, 0, "no entry outlives its users")
  }))
  assert.equal(events, ["a1 start", "b while a1 holds", "a1 end", "a2"])
})

test("ifFree skips a held key and runs a free one", async () => {
  await Effect.runPromise(Effect.gen(function* () {
    const lock = new KeyedLock()
    const release = yield* Deferred.make<void>()
    const entered = yield* Deferred.make<void>()
    const holder = yield* Effect.forkChild(lock.withLock("prj_a")(Effect.andThen(Deferred.succeed(entered, undefined), Deferred.await(release))))
    yield* Deferred.await(entered)
    assert.equal(yield* lock.ifFree("prj_a")(Effect.succeed("ran")), Option.none())
    assert.equal(yield* lock.ifFree("prj_b")(Effect.succeed("ran")), Option.some("ran"))
    yield* Deferred.succeed(release, undefined)
    yield* Fiber.join(holder)
    assert.equal(yield* lock.ifFree("prj_a")(Effect.succeed("ran")), Option.some("ran"))
  }))
})

test("a failure or an interruption releases the key", async () => {
  await Effect.runPromise(Effect.gen(function* () {
    const lock = new KeyedLock()
    yield* lock.withLock("prj_a")(Effect.fail("boom")).pipe(Effect.ignore)
    const fiber = yield* Effect.forkChild(lock.withLock("prj_a")(Effect.never))
    yield* Effect.yieldNow
    yield* Fiber.interrupt(fiber)
    assert.is(lock.size, 0)
    assert.equal(yield* lock.ifFree("prj_a")(Effect.succeed(1)), Option.some(1))
  }))
})

test.run()
