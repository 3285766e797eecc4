// The bus-agnostic dispatcher on its own: keys in parallel, order per key, commit points,
// batches per key, retries, backpressure, revocation and close. No bus, no clock assertions:
// every case waits for conditions.
import { Deferred, Effect, Exit, Fiber, Scope } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import type { BusMessage, KeyBatch } from "../src/services/event-bus.ts"
import { makeKeyedDispatcher, type CommitOffset, type KeyedDispatchOptions } from "./keyed-dispatch.ts"

const message = (partition: number, offset: number, key: string | null, value = `${key}@${offset}`): BusMessage => ({
  topic: "t", partition, offset: String(offset), key, value, headers: {},
})

/** `count` messages on one partition, keys given per offset. */
const partitionOf = (partition: number, keys: ReadonlyArray<string>, from = 0) => keys.map((key, i) => message(partition, from + i, key))

const eventually = (what: string, check: () => boolean, seen: () => unknown = () => undefined) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 10_000
    while (!check()) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`waited for ${what}; seen: ${JSON.stringify(seen())}`))
      yield* Effect.sleep(2)
    }
  })

/** Commits the dispatcher made, and the latest per partition. */
const makeCommits = () => {
  const all: Array<CommitOffset> = []
  return {
    all,
    commit: (offsets: ReadonlyArray<CommitOffset>) => Effect.sync(() => void all.push(...offsets)),
    latest: (partition: number) => [...all].reverse().find((c) => c.partition === partition)?.offset,
  }
}

const run = (body: Effect.Effect<void, unknown, Scope.Scope>) => Effect.runPromise(Effect.scoped(body))

const dispatcher = <E>(options: Partial<KeyedDispatchOptions<E>> & Pick<KeyedDispatchOptions<E>, "handle">, commits = makeCommits()) =>
  makeKeyedDispatcher({ commit: commits.commit, retryInitialMs: 1, retryMaxMs: 5, commitRetryMs: 1, ...options })

test("concurrency N runs N keys at once, never more, and never one key twice at once", () =>
  run(Effect.gen(function* () {
    const gate = yield* Deferred.make<void>()
    const running = new Set<string>()
    let most = 0
    let overlapOfOneKey = false
    const handled: Array<string> = []
    const bus = yield* dispatcher({
      concurrency: 3,
      handle: ([m]) => Effect.gen(function* () {
        if (running.has(m.key!)) overlapOfOneKey = true
        running.add(m.key!)
        most = Math.max(most, running.size)
        yield* Deferred.await(gate)
        running.delete(m.key!)
        handled.push(m.value!)
      }),
    })
    yield* bus.offer(partitionOf(0, ["a", "a", "b", "c", "d", "e", "b"]))
    yield* eventually("3 keys running", () => running.size === 3, () => [...running])
    assert.equal([...running].sort(), ["a", "b", "c"], "the first three keys, in offset order")
    yield* Deferred.succeed(gate, undefined)
    yield* eventually("7 handled", () => handled.length === 7, () => handled)
    assert.is(most, 3)
    assert.not.ok(overlapOfOneKey)
    assert.equal(handled.filter((v) => v.startsWith("a@")), ["a@0", "a@1"])
    assert.equal(handled.filter((v) => v.startsWith("b@")), ["b@2", "b@6"])
  })))

test("with one slot and no failure the messages of a partition go in offset order, across keys", () =>
  run(Effect.gen(function* () {
    const handled: Array<string> = []
    const bus = yield* dispatcher({ handle: ([m]) => Effect.sync(() => void handled.push(m.value!)) })
    yield* bus.offer(partitionOf(0, ["x", "x", "y", "x", "z", "y"]))
    yield* eventually("6 handled", () => handled.length === 6, () => handled)
    assert.equal(handled, ["x@0", "x@1", "y@2", "x@3", "z@4", "y@5"])
  })))

test("per-key order holds with concurrency 8 over 50 keys on 3 partitions, each message once", () =>
  run(Effect.gen(function* () {
    const seen = new Map<string, Array<number>>()
    const commits = makeCommits()
    let total = 0
    const bus = yield* dispatcher({
      concurrency: 8,
      bufferSize: 40,
      handle: ([m]) => Effect.gen(function* () {
        // uneven handler times shuffle the completion order across keys
        yield* Effect.sleep(Number(m.offset) % 3)
        seen.set(m.key!, [...(seen.get(m.key!) ?? []), Number(m.value!.split("#")[1])])
        total++
      }),
    }, commits)
    const sequence = new Map<string, number>()
    const byPartition: Array<Array<BusMessage>> = [[], [], []]
    for (let i = 0; i < 600; i++) {
      const key = `k${(i * 7) % 50}`
      const p = Number(key.slice(1)) % 3
      const n = sequence.get(key) ?? 0
      sequence.set(key, n + 1)
      byPartition[p]!.push({ ...message(p, byPartition[p]!.length, key), value: `${key}#${n}` })
    }
    yield* Effect.forEach(byPartition, (ms) => bus.offer(ms), { concurrency: "unbounded" })
    yield* eventually("600 handled", () => total === 600, () => total)
    for (const [key, ns] of seen) assert.equal(ns, Array.from({ length: sequence.get(key)! }, (_, i) => i), key)
    yield* eventually("every partition committed to its end", () => byPartition.every((ms, p) => commits.latest(p) === String(ms.length)), () => commits.all.slice(-3))
  })))

test("a slow key holds up neither the other keys of its partition nor their handling; the commit stops at its message", () =>
  run(Effect.gen(function* () {
    const slow = yield* Deferred.make<void>()
    const commits = makeCommits()
    const handled: Array<string> = []
    const bus = yield* dispatcher({
      concurrency: 2,
      handle: ([m]) => (m.key === "slow" ? Deferred.await(slow) : Effect.void).pipe(Effect.andThen(Effect.sync(() => void handled.push(m.value!)))),
    }, commits)
    yield* bus.offer(partitionOf(0, ["a", "slow", "b", "c", "d", "e"]))
    yield* eventually("every other key handled", () => handled.length === 5, () => handled)
    assert.equal(handled, ["a@0", "b@2", "c@3", "d@4", "e@5"])
    yield* eventually("a@0 committed", () => commits.latest(0) === "1", () => commits.all)
    assert.ok(commits.all.every((c) => BigInt(c.offset) <= 1n), `never past the slow message at offset 1: ${JSON.stringify(commits.all)}`)
    yield* Deferred.succeed(slow, undefined)
    yield* eventually("committed to the end", () => commits.latest(0) === "6", () => commits.all)
  })))

test("batchPerKey hands over what queued for a busy key in one call, in order", () =>
  run(Effect.gen(function* () {
    const gate = yield* Deferred.make<void>()
    const calls: Array<Array<string>> = []
    const bus = yield* dispatcher({
      concurrency: 2,
      batchPerKey: true,
      handle: (batch: KeyBatch) => Effect.sync(() => void calls.push(batch.map((m) => m.value!))).pipe(
        Effect.andThen(batch[0].value === "x@0" ? Deferred.await(gate) : Effect.void),
      ),
    })
    yield* bus.offer([message(0, 0, "x")])
    yield* eventually("x@0 running", () => calls.length === 1)
    yield* bus.offer(partitionOf(0, ["x", "y", "x", "x"], 1))
    yield* eventually("y handled", () => calls.some((c) => c[0] === "y@2"), () => calls)
    yield* Deferred.succeed(gate, undefined)
    yield* eventually("the queued x messages", () => calls.length === 3, () => calls)
    assert.equal(calls, [["x@0"], ["y@2"], ["x@1", "x@3", "x@4"]])
  })))

test("a failing key gets the same messages again with backoff while other keys flow, even at concurrency 1", () =>
  run(Effect.gen(function* () {
    const attempts: Array<string> = []
    let failuresLeft = 3
    let commitsBeforeSuccess = -1
    const commits = makeCommits()
    const bus = yield* dispatcher({
      concurrency: 1,
      handle: ([m]) => Effect.suspend(() => {
        if (m.key === "bad" && failuresLeft > 0) {
          failuresLeft--
          attempts.push(`${m.value} failed`)
          return Effect.fail("not yet")
        }
        attempts.push(`${m.value} ok`)
        if (m.value === "bad@0") commitsBeforeSuccess = commits.all.length
        return Effect.void
      }),
    }, commits)
    yield* bus.offer(partitionOf(0, ["bad", "bad", "good", "good"]))
    yield* eventually("everything handled", () => attempts.filter((a) => a.endsWith("ok")).length === 4, () => attempts)
    const ofBad = attempts.filter((a) => a.startsWith("bad"))
    assert.equal(ofBad, ["bad@0 failed", "bad@0 failed", "bad@0 failed", "bad@0 ok", "bad@1 ok"], "the same message until it succeeds, then the next")
    assert.ok(attempts.indexOf("good@2 ok") < attempts.indexOf("bad@0 ok"), `other keys flowed during the backoff: ${attempts}`)
    yield* eventually("committed to the end", () => commits.latest(0) === "4", () => commits.all)
    const early = commits.all.slice(0, commitsBeforeSuccess)
    assert.ok(early.every((c) => c.offset === "0"), `nothing past the failing message before it succeeded: ${JSON.stringify(early)}`)
  })))

test("the buffer bounds what is taken and not finished: offer waits for room", () =>
  run(Effect.gen(function* () {
    const gate = yield* Deferred.make<void>()
    const started: Array<string> = []
    const bus = yield* dispatcher({
      concurrency: 2,
      bufferSize: 3,
      handle: ([m]) => Effect.sync(() => void started.push(m.value!)).pipe(Effect.andThen(Deferred.await(gate))),
    })
    const taken: Array<string> = []
    const offering = yield* Effect.forkChild(bus.offer(partitionOf(0, ["a", "b", "c", "d", "e", "f"]), (m) => void taken.push(m.value!)))
    yield* eventually("3 taken", () => taken.length === 3, () => taken)
    yield* eventually("2 running", () => started.length === 2, () => started)
    assert.is(taken.length, 3, "the fourth waits for room")
    yield* Deferred.succeed(gate, undefined)
    assert.is(yield* Fiber.join(offering), 6)
    yield* eventually("all started", () => started.length === 6, () => started)
  })))

test("revoke drops queued messages of the partition and commits nothing more for it; the others go on", () =>
  run(Effect.gen(function* () {
    const gate = yield* Deferred.make<void>()
    const commits = makeCommits()
    const handled: Array<string> = []
    const started: Array<string> = []
    const bus = yield* dispatcher({
      concurrency: 1,
      handle: ([m]) => Effect.sync(() => void started.push(m.value!)).pipe(
        Effect.andThen(m.value === "a@0" ? Deferred.await(gate) : Effect.void),
        Effect.andThen(Effect.sync(() => void handled.push(m.value!))),
      ),
    }, commits)
    yield* bus.offer([...partitionOf(0, ["a", "b", "c"]), ...partitionOf(1, ["p", "q"])])
    yield* eventually("a@0 running", () => started.includes("a@0"), () => started)
    yield* bus.revoke([{ topic: "t", partition: 0 }])
    yield* Deferred.succeed(gate, undefined)
    yield* eventually("partition 1 handled", () => handled.includes("q@1"), () => handled)
    yield* eventually("partition 1 committed", () => commits.latest(1) === "2", () => commits.all)
    assert.equal(handled, ["a@0", "p@0", "q@1"], "the running one finished; b and c were dropped")
    assert.is(commits.latest(0), undefined, "nothing committed for the revoked partition")
    // the partition comes back, read again from its committed offset: nothing is skipped as already taken
    yield* bus.offer(partitionOf(0, ["a", "b", "c"]))
    yield* eventually("partition 0 again", () => handled.filter((v) => v.startsWith("c@")).length === 1, () => handled)
    yield* eventually("partition 0 committed", () => commits.latest(0) === "3", () => commits.all)
  })))

test("messages below what was taken (a fetch started again from the commit) are skipped", () =>
  run(Effect.gen(function* () {
    const handled: Array<string> = []
    const bus = yield* dispatcher({ handle: ([m]) => Effect.sync(() => void handled.push(m.value!)) })
    yield* bus.offer(partitionOf(0, ["a", "b", "c"]))
    assert.is(yield* bus.offer(partitionOf(0, ["a", "b", "c", "d"])), 4)
    yield* eventually("d handled", () => handled.includes("d@3"), () => handled)
    assert.equal(handled, ["a@0", "b@1", "c@2", "d@3"])
  })))

test("closing interrupts handlers in flight and commits what finished, never past the interrupted message", () =>
  Effect.runPromise(Effect.gen(function* () {
    const commits = makeCommits()
    const handled: Array<string> = []
    let interrupted = 0
    const scope = yield* Scope.make()
    const bus = yield* dispatcher({
      concurrency: 2,
      handle: ([m]) => (m.key === "stuck" ? Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => void interrupted++))) : Effect.sync(() => void handled.push(m.value!))),
    }, commits).pipe(Scope.provide(scope))
    yield* bus.offer(partitionOf(0, ["a", "b", "stuck", "c", "d"]))
    yield* eventually("the others handled", () => handled.length === 4, () => handled)
    yield* Scope.close(scope, Exit.void)
    assert.is(interrupted, 1)
    assert.is(commits.latest(0), "2", "committed up to the interrupted message, which comes again")
    assert.is(yield* bus.offer([message(0, 5, "e")]), 0, "a closed dispatcher takes nothing")
  })))

test("closing with drainMs: calls in flight finish and are committed, nothing queued starts, a call past the drain is interrupted", () =>
  Effect.runPromise(Effect.gen(function* () {
    const commits = makeCommits()
    const started: Array<string> = []
    const handled: Array<string> = []
    let interrupted = 0
    const slow = yield* Deferred.make<void>()
    const scope = yield* Scope.make()
    const bus = yield* dispatcher({
      concurrency: 2,
      drainMs: 2_000,
      handle: ([m]) => Effect.gen(function* () {
        started.push(m.value!)
        if (m.partition === 0) yield* Deferred.await(slow)
        if (m.partition === 1) yield* Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => void interrupted++)))
        handled.push(m.value!)
      }),
    }, commits).pipe(Scope.provide(scope))
    // partition 0: "a" runs (held), "a" queued behind it; partition 1: "x" runs and never ends
    yield* bus.offer([message(0, 0, "a"), message(0, 1, "a"), message(1, 0, "x")])
    yield* eventually("both calls running", () => started.length === 2, () => started)
    const closed = yield* Effect.forkChild(Scope.close(scope, Exit.void))
    yield* Effect.sleep(20)
    yield* Deferred.succeed(slow, undefined)
    yield* Fiber.join(closed)
    assert.equal(handled, ["a@0"], "the call in flight finished; the queued one never started")
    assert.equal(started, ["a@0", "x@0"])
    assert.is(interrupted, 1, "the call still running after the drain was interrupted")
    assert.is(commits.latest(0), "1", "what finished while draining is committed")
    assert.is(commits.latest(1) ?? "0", "0", "never past the interrupted message, which comes again")
  })))

test("passed: offsets that hold nothing are committed past once what came before is finished, and never across a gap", () =>
  run(Effect.gen(function* () {
    const gate = yield* Deferred.make<void>()
    const commits = makeCommits()
    const handled: Array<string> = []
    const bus = yield* dispatcher({ handle: ([m]) => Deferred.await(gate).pipe(Effect.andThen(Effect.sync(() => void handled.push(m.value!)))) }, commits)
    const ref = { topic: "t", partition: 0 }
    yield* bus.offer(partitionOf(0, ["a", "a"]))
    // offsets 2 and 3 are markers: passed, but the commit waits for 0 and 1
    yield* bus.passed(ref, 2n, 3n)
    // a range that does not follow on (5..6 while 4 was never offered) changes nothing
    yield* bus.passed(ref, 5n, 6n)
    assert.equal(commits.all, [], "committed before anything was handled")
    yield* Deferred.succeed(gate, undefined)
    yield* eventually("committed past the markers", () => commits.latest(0) === "4", () => commits.all)
    yield* bus.offer([message(0, 4, "a")])
    yield* eventually("4 handled", () => handled.length === 3, () => handled)
    yield* eventually("committed after 4", () => commits.latest(0) === "5", () => commits.all)
    assert.equal(handled, ["a@0", "a@1", "a@4"])
  })))

test.run()
