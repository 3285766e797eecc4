// The Leases contract: what every layer (in-process, Postgres advisory locks) must do. A runner
// file per layer calls `leasesContract(name, contenders).run()`; `contenders(n)` gives n
// replicas' Leases (the in-process layer: one process, so the same service n times).
//
// Work records when it runs and when it stops, so a case can say "never two at once" from what
// happened, not from timings.
import { Effect, Fiber, Scope } from "effect"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { Leases } from "../../src/services/leases.ts"

export type Contenders = (count: number) => Effect.Effect<ReadonlyArray<Leases["Service"]>, unknown, Scope.Scope>

/** Polls `check` until it holds; the failure says what was awaited and what was seen. */
export const eventually = (what: string, check: () => boolean, seen: () => unknown, timeoutMs = 30_000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`waited ${timeoutMs}ms for ${what}; seen: ${JSON.stringify(seen())}`))
      yield* Effect.sleep(20)
    }
  })

/** Work that runs until interrupted, recording who runs, and the most that ever ran at once. */
export const recordingWork = () => {
  const running = new Set<number>()
  const log: Array<string> = []
  let most = 0
  return {
    running, log,
    most: () => most,
    work: (contender: number) =>
      Effect.gen(function* () {
        running.add(contender)
        most = Math.max(most, running.size)
        log.push(`start ${contender}`)
        return yield* Effect.never
      }).pipe(Effect.onInterrupt(() => Effect.sync(() => { running.delete(contender); log.push(`stop ${contender}`) }))),
  }
}

export const randomLease = (what: string) => `contract-${what}-${crypto.randomUUID().slice(0, 8)}`

/** `count` contenders racing for one fresh lease, once one of them (`first`) runs the work. */
export const racing = (contenders: Contenders, count: number, what: string) =>
  Effect.gen(function* () {
    const replicas = yield* contenders(count)
    const lease = randomLease(what)
    const work = recordingWork()
    const fibers = yield* Effect.forEach(replicas, (leases, i) => Effect.forkScoped(leases.whileHeld(lease, work.work(i))))
    yield* eventually("one contender running", () => work.running.size === 1, () => work.log)
    return { replicas, lease, work, fibers, first: [...work.running][0]! }
  })

export const leasesContract = (name: string, contenders: Contenders, options: { readonly caseTimeoutMs?: number } = {}) => {
  const test = suite(`Leases contract: ${name}`)
  const caseTimeoutMs = options.caseTimeoutMs ?? 60_000
  const run = (body: Effect.Effect<void, unknown, Scope.Scope>) =>
    Effect.runPromise(body.pipe(
      Effect.scoped,
      Effect.timeoutOrElse({ duration: caseTimeoutMs, orElse: () => Effect.die(new Error(`case did not finish within ${caseTimeoutMs}ms`)) }),
    ))

  test("of three contenders one runs the work and holders() names it; when it stops, another takes over; never two at once", () =>
    run(Effect.gen(function* () {
      const { replicas, lease, work, fibers, first } = yield* racing(contenders, 3, "one-at-a-time")
      for (const leases of replicas) assert.equal(yield* leases.holders([lease]), [{ lease, holder: replicas[first]!.holder }])

      yield* Fiber.interrupt(fibers[first]!)
      assert.ok(!work.running.has(first), "the stopped contender's work still runs")
      yield* eventually("another contender running", () => work.running.size === 1, () => work.log)
      const second = [...work.running][0]!
      assert.not.equal(second, first)
      for (const leases of replicas) assert.equal(yield* leases.holders([lease]), [{ lease, holder: replicas[second]!.holder }])
      assert.is(work.most(), 1, `two ran at once: ${work.log.join(", ")}`)
    })))

  test("work that fails gives its lease up, and the lease is taken again to run it anew", () =>
    run(Effect.gen(function* () {
      const [leases] = yield* contenders(1)
      const lease = randomLease("fails")
      let attempts = 0
      const work = recordingWork()
      yield* Effect.forkScoped(leases!.whileHeld(lease, Effect.suspend(() => ++attempts === 1 ? Effect.fail("first attempt fails") : work.work(0))))
      yield* eventually("the second attempt running", () => work.running.has(0), () => attempts)
      assert.is(attempts, 2)
      assert.equal(yield* leases!.holders([lease]), [{ lease, holder: leases!.holder }])
    })))

  test("leases of different names are independent: each is held at once, by whoever took it", () =>
    run(Effect.gen(function* () {
      const replicas = yield* contenders(2)
      const [relay, sweeper] = [randomLease("relay"), randomLease("sweeper")]
      const work = recordingWork()
      yield* Effect.forkScoped(replicas[0]!.whileHeld(relay, work.work(0)))
      yield* Effect.forkScoped(replicas[1]!.whileHeld(sweeper, work.work(1)))
      yield* eventually("both running", () => work.running.size === 2, () => work.log)
      const expected = [{ lease: relay, holder: replicas[0]!.holder }, { lease: sweeper, holder: replicas[1]!.holder }]
      for (const leases of replicas) assert.equal(yield* leases.holders([relay, sweeper, randomLease("nobody's")]), expected)
    })))

  return test
}
