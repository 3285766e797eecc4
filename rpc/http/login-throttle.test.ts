// The failed-login windows: per address, in total, reset when the window has passed, bounded memory.
import { test } from "uvu"
import * as assert from "uvu/assert"
import { makeLoginThrottle } from "./login-throttle.ts"

test("an address is held after its limit until its window ends; Retry-After counts down", () => {
  const throttle = makeLoginThrottle({ perAddress: 2, total: 100, windowMs: 60_000 })
  throttle.failed("a", 0)
  assert.is(throttle.retryAfter("a", 1_000), undefined)
  throttle.failed("a", 1_000)
  assert.is(throttle.retryAfter("a", 1_000), 59)
  assert.is(throttle.retryAfter("a", 59_500), 1)
  assert.is(throttle.retryAfter("b", 1_000), undefined)
  assert.is(throttle.retryAfter("a", 60_000), undefined)
  throttle.failed("a", 60_000)
  assert.is(throttle.retryAfter("a", 60_001), undefined)
})

test("the total limit holds every address", () => {
  const throttle = makeLoginThrottle({ perAddress: 10, total: 3, windowMs: 10_000 })
  for (const address of ["a", "b", "c"]) throttle.failed(address, 0)
  assert.is(throttle.retryAfter("d", 0), 10)
  assert.is(throttle.retryAfter("d", 10_000), undefined)
})

test("at most maxAddresses are remembered, the oldest forgotten first", () => {
  const throttle = makeLoginThrottle({ perAddress: 1, total: 100, windowMs: 10_000, maxAddresses: 2 })
  for (const address of ["a", "b", "c"]) throttle.failed(address, 0)
  assert.is(throttle.retryAfter("a", 0), undefined)
  assert.is(throttle.retryAfter("c", 0), 10)
})

test.run()
