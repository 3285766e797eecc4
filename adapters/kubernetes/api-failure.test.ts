// Which apiserver answers are refusals (the daemon reports them and moves on) and which are
// outages (the daemon waits them out, keeping the partition's order).
import { ApiException } from "@kubernetes/client-node"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { classifyFailure, isRefusal } from "./api-failure.ts"

const answer = (status: number, reason: string) =>
  classifyFailure("create namespace prj-x", new ApiException(status, `HTTP ${status}`, JSON.stringify({ kind: "Status", reason, message: reason }), {}))

test("Forbidden, Invalid and BadRequest are refusals; the same request would fail again", () => {
  for (const [status, reason] of [[403, "Forbidden"], [422, "Invalid"], [400, "BadRequest"]] as const) {
    const failure = answer(status, reason)
    assert.ok(isRefusal(failure), `${status} ${reason}`)
    assert.is(failure.retryable, false)
  }
})

test("throttling, server errors and network failures are not refusals: they pass", () => {
  assert.not.ok(isRefusal(answer(429, "TooManyRequests")))
  assert.not.ok(isRefusal(answer(503, "ServiceUnavailable")))
  assert.not.ok(isRefusal(answer(500, "InternalError")))
  const refused = Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) })
  assert.not.ok(isRefusal(classifyFailure("list namespaces", refused)))
})

test.run()
