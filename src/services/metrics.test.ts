// The metric registry behind GET /metrics: what recording does to the rendered text.
import { Effect, Exit, Scope } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { parseExposition, valueOf } from "../../tests/support/exposition.ts"
import { counter, gauge, histogram, Metrics } from "./metrics.ts"

const requests = counter("test_requests_total", "requests", ["route", "status"])
const resident = gauge("test_resident", "resident", ["machine"])
const latency = histogram("test_latency_seconds", "latency", ["route"], [0.1, 1])
const lag = gauge("test_lag_messages", "lag", ["group"])

const run = <A>(effect: Effect.Effect<A, never, Metrics>) => Effect.runPromise(Effect.provide(effect, Metrics.layer))
const scrape = Metrics.use((m) => m.render()).pipe(Effect.map(parseExposition))

test("counters add up per label set, whatever order the labels are written in", async () => {
  const samples = await run(Effect.gen(function* () {
    const metrics = yield* Metrics
    yield* metrics.increment(requests, { route: "/a", status: "200" })
    yield* metrics.increment(requests, { status: "200", route: "/a" }, 2)
    yield* metrics.increment(requests, { route: "/a", status: "500" })
    return yield* scrape
  }))
  assert.is(valueOf(samples, "test_requests_total", { route: "/a", status: "200" }), 3)
  assert.is(valueOf(samples, "test_requests_total", { route: "/a", status: "500" }), 1)
})

test("a counter refuses to go down", async () => {
  const exit = await Effect.runPromiseExit(Effect.provide(Metrics.use((m) => m.increment(requests, { route: "/a", status: "200" }, -1)), Metrics.layer))
  assert.is(exit._tag, "Failure")
})

test("gauges go up and down; histograms count each observation in its bucket", async () => {
  const samples = await run(Effect.gen(function* () {
    const metrics = yield* Metrics
    yield* metrics.add(resident, { machine: "project" }, 1)
    yield* metrics.add(resident, { machine: "project" }, 1)
    yield* metrics.add(resident, { machine: "project" }, -2)
    for (const seconds of [0.05, 0.5, 5]) yield* metrics.observe(latency, { route: "/a" }, seconds)
    return yield* scrape
  }))
  assert.is(valueOf(samples, "test_resident", { machine: "project" }), 0)
  assert.is(valueOf(samples, "test_latency_seconds_bucket", { route: "/a", le: "0.1" }), 1)
  assert.is(valueOf(samples, "test_latency_seconds_bucket", { route: "/a", le: "1" }), 2)
  assert.is(valueOf(samples, "test_latency_seconds_bucket", { route: "/a", le: "+Inf" }), 3)
  assert.is(valueOf(samples, "test_latency_seconds_count", { route: "/a" }), 3)
  assert.is(valueOf(samples, "test_latency_seconds_sum", { route: "/a" }), 5.55)
})

test("a scrape-time gauge is computed at every scrape, and only while its scope is open", async () => {
  let reads = 0
  const result = await run(Effect.gen(function* () {
    const metrics = yield* Metrics
    const scope = yield* Scope.make()
    yield* Scope.provide(metrics.collectAtScrape(lag, Effect.sync(() => [{ labels: { group: "g" }, value: ++reads * 10 }])), scope)
    const first = yield* scrape
    const second = yield* scrape
    yield* Scope.close(scope, Exit.void)
    const afterClose = yield* scrape
    return { first, second, afterClose }
  }))
  assert.is(valueOf(result.first, "test_lag_messages", { group: "g" }), 10)
  assert.is(valueOf(result.second, "test_lag_messages", { group: "g" }), 20)
  assert.is(valueOf(result.afterClose, "test_lag_messages", { group: "g" }), undefined)
  assert.is(reads, 2)
})

test("two definitions of one name with different labels are a programming error", async () => {
  const other = counter("test_requests_total", "requests", ["route"])
  const exit = await Effect.runPromiseExit(Effect.provide(Effect.gen(function* () {
    const metrics = yield* Metrics
    yield* metrics.increment(requests, { route: "/a", status: "200" })
    yield* metrics.increment(other, { route: "/a" })
  }), Metrics.layer))
  assert.is(exit._tag, "Failure")
  assert.throws(() => counter("bad name", "h"), /not valid/)
  assert.throws(() => histogram("h_seconds", "h", [], [1, 0.5]), /ascend/)
})

test.run()
