import { test } from "uvu"
import * as assert from "uvu/assert"
import { makeTokenBucket } from "../../adapters/kubernetes/rate-limit.ts"

test("a full bucket lets `burst` requests through at once, then spaces them at 1/qps", () => {
  const bucket = makeTokenBucket({ qps: 10, burst: 3 })
  const waits = Array.from({ length: 6 }, () => bucket.reserve(1_000))
  assert.equal(waits, [0, 0, 0, 100, 200, 300])
})

test("tokens refill with time, never beyond the burst", () => {
  const bucket = makeTokenBucket({ qps: 10, burst: 2 })
  assert.equal([bucket.reserve(0), bucket.reserve(0)], [0, 0])
  // 150 ms later 1.5 tokens are back: one request goes now, the next waits for the other half
  assert.is(bucket.reserve(150), 0)
  assert.is(bucket.reserve(150), 50)
  // after a long idle period only `burst` requests go through without waiting
  assert.equal([bucket.reserve(60_000), bucket.reserve(60_000), bucket.reserve(60_000)], [0, 0, 100])
})

test("callers already waiting keep their slots: a later caller queues behind them", () => {
  const bucket = makeTokenBucket({ qps: 5, burst: 1 })
  assert.is(bucket.reserve(0), 0)
  assert.is(bucket.reserve(0), 200) // slot at t=200
  assert.is(bucket.reserve(0), 400) // slot at t=400
  assert.is(bucket.reserve(200), 400) // the t=200 slot is taken: next free one is t=600
})

test("sustained rate over a simulated minute matches qps", () => {
  const bucket = makeTokenBucket({ qps: 20, burst: 5 })
  let now = 0
  let sent = 0
  while (now < 60_000) {
    const wait = bucket.reserve(now)
    now += wait
    if (now < 60_000) sent++
  }
  // 5 from the burst plus 20 per second
  assert.ok(sent >= 1_200 && sent <= 1_205, `sent ${sent}`)
})

test("qps Infinity never waits; invalid settings are rejected", () => {
  const unlimited = makeTokenBucket({ qps: Infinity, burst: 1 })
  assert.equal(Array.from({ length: 100 }, () => unlimited.reserve(0)).filter((w) => w > 0), [])
  assert.throws(() => makeTokenBucket({ qps: 0, burst: 1 }), /qps/)
  assert.throws(() => makeTokenBucket({ qps: 1, burst: 0 }), /burst/)
  assert.throws(() => makeTokenBucket({ qps: Number.NaN, burst: 1 }), /qps/)
})

test.run()
