// POST /debug/login and /logout on stand-in management services: the Origin rule, throttled failed
// logins, a malformed form body, and Cache-Control on every /debug answer. (Sessions against
// the database, revocation included: debug.test.ts.)
import { Effect } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { stubApp, stubOperatorToken } from "../../tests/support/stub-app.ts"
import { sessionSeconds } from "../http/debug-session.ts"

const form = (token: string) => new URLSearchParams({ token }).toString()
const login = (fabric: ReturnType<typeof stubApp>, token: string, headers: Record<string, string> = {}) =>
  fabric.app.request("/debug/login", { method: "POST", body: form(token), headers: { "content-type": "application/x-www-form-urlencoded", ...headers } })

test("a foreign or null Origin is 403 on login and logout; this server's own, or none, is let through", async () => {
  const fabric = stubApp()
  for (const origin of ["https://evil.test", "http://localhost:8081", "null"]) {
    for (const path of ["/debug/login", "/debug/logout"]) {
      const response = await fabric.app.request(path, { method: "POST", body: form(stubOperatorToken), headers: { "content-type": "application/x-www-form-urlencoded", origin } })
      assert.is(response.status, 403, `${path} ${origin}`)
      assert.is(((await response.json()) as any).error.code, "forbidden")
    }
  }
  assert.is((await login(fabric, stubOperatorToken, { origin: "http://localhost" })).status, 303)
  assert.is((await login(fabric, stubOperatorToken)).status, 303)
  // Behind a proxy that terminated TLS, the browser's origin is https.
  assert.is((await login(fabric, stubOperatorToken, { origin: "https://localhost", "x-forwarded-proto": "https" })).status, 303)
  assert.is((await fabric.app.request("/debug/logout", { method: "POST" })).status, 303)
  await fabric.dispose()
})

test("Sec-Fetch-Site decides when a browser sends it: same-origin passes even with Origin null, cross-site and same-site are 403", async () => {
  const fabric = stubApp()
  assert.is((await login(fabric, stubOperatorToken, { origin: "null", "sec-fetch-site": "same-origin" })).status, 303)
  for (const site of ["cross-site", "same-site"]) {
    const response = await login(fabric, stubOperatorToken, { origin: "http://localhost", "sec-fetch-site": site })
    assert.is(response.status, 403, site)
    assert.match(((await response.json()) as any).error.message, /Sec-Fetch-Site/)
  }
  await fabric.dispose()
})

test("a malformed multipart body is 400 invalid_request, not a 500", async () => {
  const fabric = stubApp()
  const errors: unknown[] = []
  const consoleError = console.error
  console.error = (...args: unknown[]) => { errors.push(args) }
  try {
    for (const [type, body] of [["multipart/form-data; boundary=y", "--x\r\nnot a part"], ["multipart/form-data", "no boundary at all"]] as const) {
      const response = await fabric.app.request("/debug/login", { method: "POST", body, headers: { "content-type": type } })
      assert.is(response.status, 400, type)
      assert.is(((await response.json()) as any).error.code, "invalid_request")
    }
  } finally {
    console.error = consoleError
  }
  assert.equal(errors, [], "an unhandled error was logged")
  await fabric.dispose()
})

test("failed logins: 429 with Retry-After after 5 from one address (even for the right token), others unaffected", async () => {
  const fabric = stubApp()
  const from = (address: string) => ({ "x-test-client": address })
  for (let i = 0; i < 5; i++) assert.is((await login(fabric, "wrong", from("10.0.0.1"))).status, 401)
  const refused = await login(fabric, "wrong", from("10.0.0.1"))
  assert.is(refused.status, 429)
  const wait = Number(refused.headers.get("retry-after"))
  assert.ok(wait >= 1 && wait <= 60, String(wait))
  assert.is(((await refused.json()) as any).error.code, "too_many_requests")
  assert.is((await login(fabric, stubOperatorToken, from("10.0.0.1"))).status, 429)
  assert.is((await login(fabric, stubOperatorToken, from("10.0.0.2"))).status, 303)
  await fabric.dispose()
})

test("failed logins: 429 for every address once 50 have failed in the window", async () => {
  const fabric = stubApp()
  for (let i = 0; i < 50; i++) assert.is((await login(fabric, "wrong", { "x-test-client": `10.1.0.${i}` })).status, 401)
  const fresh = await login(fabric, stubOperatorToken, { "x-test-client": "10.2.0.1" })
  assert.is(fresh.status, 429)
  assert.ok(fresh.headers.has("retry-after"))
  await fabric.dispose()
})

test("logout revokes the cookie's session (its id, until its expiry); the cookie is refused from then on", async () => {
  const revoked = new Set<string>()
  const fabric = stubApp({
    revokeDebugSession: (id: string) => Effect.sync(() => void revoked.add(id)),
    isDebugSessionRevoked: (id: string) => Effect.succeed(revoked.has(id)),
  })
  const cookie = (await login(fabric, stubOperatorToken)).headers.get("set-cookie")!.split(";")[0]!
  assert.is((await fabric.app.request("/debug/api/machines", { headers: { cookie } })).status, 200)
  assert.is((await fabric.app.request("/debug/logout", { method: "POST", headers: { cookie } })).status, 303)
  const [id, expiresAt] = fabric.calls.find((c) => c.name === "revokeDebugSession")!.args as [string, number]
  assert.ok(decodeURIComponent(cookie).includes(`${id}_${expiresAt}`))
  assert.ok(Math.abs(expiresAt - (Date.now() + sessionSeconds * 1000)) < 60_000)
  assert.is((await fabric.app.request("/debug/api/machines", { headers: { cookie } })).status, 401)
  await fabric.dispose()
})

test("every /debug answer is Cache-Control: no-store (JSON, errors, the login form)", async () => {
  const fabric = stubApp()
  for (const [path, status] of [["/debug/api/machines", 200], ["/debug", 200]] as const) {
    const response = await fabric.request(path)
    assert.is(response.status, status, path)
    assert.is(response.headers.get("cache-control"), "no-store", path)
  }
  for (const path of ["/debug/api/machines", "/debug"]) {
    const response = await fabric.app.request(path)
    assert.is(response.status, 401)
    assert.is(response.headers.get("cache-control"), "no-store", path)
  }
  await fabric.dispose()
})

test.run()
