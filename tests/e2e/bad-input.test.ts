// Bad input on every endpoint: the right 4xx, the error shape of docs/api.md, and nothing written.
import { serve } from "@hono/node-server"
import { request as httpRequest } from "node:http"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk } from "../../rpc/client.ts"
import { operatorToken, startFabric, type TestFabric } from "../support/embedded-fabric.ts"
import { createProject, expectApiError } from "../support/typed-api.ts"

const bad = suite<{ fabric: TestFabric; accountId: string; projectId: string; apiKey: string; other: { accountId: string; projectId: string; apiKey: string } }>("bad input")

bad.before(async (ctx) => {
  ctx.fabric = await startFabric()
  const account = async (name: string, email: string) => {
    const created = await expectOk(ctx.fabric.client.v1.accounts.$post({ json: { name, email } }))
    return { accountId: created.account.id, projectId: created.project.id, apiKey: created.apiKey! }
  }
  Object.assign(ctx, await account("Mine", "mine@example.test"))
  ctx.other = await account("Theirs", "theirs@example.test")
})
bad.after(async (ctx) => ctx.fabric.stop())

const rowCounts = (fabric: TestFabric) =>
  fabric.sql(`select (select count(*) from demeter.accounts) + (select count(*) from demeter.users) + (select count(*) from demeter.projects)
    + (select count(*) from demeter.audit_log) + (select count(*) from fabric.accounts) + (select count(*) from fabric.projects)
    + (select count(*) from fabric.outbox) + (select count(*) from fabric.actor_snapshots) + (select count(*) from fabric.idempotency_keys)
    + (select count(*) from fabric.debug_session_revocations) as n`).then((r) => Number(r[0].n))

/** A cursor in the shape Fabric's store once used (base64 JSON), not signed by this API. */
const foreignCursor = (value: unknown) => encodeURIComponent(btoa(JSON.stringify(value)).replace(/=+$/, ""))

const expectError = (r: { status: number; json: any; text: string }, status: number, code: string) => {
  assert.is(r.status, status, r.text)
  assert.type(r.json?.error, "object", r.text)
  assert.is(r.json.error.code, code)
  assert.type(r.json.error.message, "string")
  assert.ok(r.json.error.message.length > 0)
}

// Raw requests in the two case tables: each sends what the typed client cannot (malformed bodies,
// values and ids its types refuse, wrong or missing headers, unknown methods and paths).
const writeCases: Array<[string, (c: any) => [string, string, Parameters<TestFabric["request"]>[2]], number, string, string?]> = [
  ["malformed JSON", (c) => ["POST", "/v1/accounts", { raw: "{\"name\": " }], 400, "invalid_request"],
  ["JSON that is not an object", (c) => ["POST", "/v1/accounts", { raw: "[1,2]" }], 400, "invalid_request"],
  ["missing email", (c) => ["POST", "/v1/accounts", { body: { name: "x" } }], 400, "invalid_request", "body.email"],
  ["empty name", (c) => ["POST", "/v1/accounts", { body: { name: "", email: "a@b.co" } }], 400, "invalid_request", "body.name"],
  ["name of 64 characters", (c) => ["POST", "/v1/accounts", { body: { name: "x".repeat(64), email: "a@b.co" } }], 400, "invalid_request", "body.name"],
  ["name with a control character", (c) => ["POST", "/v1/accounts", { body: { name: "a\u0000b", email: "a@b.co" } }], 400, "invalid_request", "body.name"],
  ["email that is not an address", (c) => ["POST", "/v1/accounts", { body: { name: "x", email: "not-an-email" } }], 400, "invalid_request", "body.email"],
  ["name of the wrong type", (c) => ["POST", "/v1/accounts", { body: { name: 42, email: "a@b.co" } }], 400, "invalid_request", "body.name"],
  ["a body over 64 KiB", (c) => ["POST", "/v1/accounts", { body: { name: "x", email: "a@b.co", pad: "y".repeat(70_000) } }], 400, "invalid_request"],
  ["an account key creating accounts", (c) => ["POST", "/v1/accounts", { token: c.apiKey, body: { name: "x", email: "x@y.co" } }], 403, "forbidden"],
  ["no token", (c) => ["POST", "/v1/accounts", { token: null, body: { name: "x", email: "x@y.co" } }], 401, "unauthorized"],
  ["a wrong token", (c) => ["POST", "/v1/accounts", { token: "fab_wrong", body: { name: "x", email: "x@y.co" } }], 401, "unauthorized"],
  ["a malformed authorization header", (c) => ["POST", "/v1/accounts", { token: null, headers: { authorization: "Basic abc" }, body: { name: "x", email: "x@y.co" } }], 401, "unauthorized"],
  ["project with a bad account id", (c) => ["POST", "/v1/accounts/acc_nope/projects", { body: { name: "p" } }], 400, "invalid_request", "param.accountId"],
  ["project for a missing account", (c) => ["POST", "/v1/accounts/acc_aaaaaaaaaaaaaaaaaaaa/projects", { body: { name: "p" } }], 404, "not_found"],
  ["project in another account", (c) => ["POST", `/v1/accounts/${c.other.accountId}/projects`, { token: c.apiKey, body: { name: "p" } }], 404, "not_found"],
  ["project with an empty name", (c) => ["POST", `/v1/accounts/${c.accountId}/projects`, { body: { name: "" } }], 400, "invalid_request", "body.name"],
  ["project with an oversized name", (c) => ["POST", `/v1/accounts/${c.accountId}/projects`, { body: { name: "n".repeat(100) } }], 400, "invalid_request", "body.name"],
  ["project with malformed JSON", (c) => ["POST", `/v1/accounts/${c.accountId}/projects`, { raw: "{oops" }], 400, "invalid_request"],
  ["a bad Idempotency-Key", (c) => ["POST", `/v1/accounts/${c.accountId}/projects`, { body: { name: "p" }, headers: { "idempotency-key": "has space" } }], 400, "invalid_request", "header.idempotency-key"],
  ["delete with a bad project id", (c) => ["DELETE", "/v1/projects/prj_BAD", {}], 400, "invalid_request", "param.projectId"],
  ["delete another account's project", (c) => ["DELETE", `/v1/projects/${c.other.projectId}`, { token: c.apiKey }], 404, "not_found"],
  ["delete a missing project", (c) => ["DELETE", "/v1/projects/prj_aaaaaaaaaaaaaaaaaaaa", {}], 404, "not_found"],
  // Text the database would refuse (NUL, lone surrogates) or store to mislead (C1, bidi): 400 at the boundary.
  ["a NUL in an email", () => ["POST", "/v1/accounts", { raw: '{"name":"n","email":"a\\u0000b@probe.test"}' }], 400, "invalid_request", "body.email"],
  ["a lone surrogate in a name", () => ["POST", "/v1/accounts", { raw: '{"name":"a\\ud800b","email":"s@probe.test"}' }], 400, "invalid_request", "body.name"],
  ["a lone surrogate in a project name", (c) => ["POST", `/v1/accounts/${c.accountId}/projects`, { raw: '{"name":"a\\udc00b"}' }], 400, "invalid_request", "body.name"],
  ["a name with U+0085 (C1 next line)", () => ["POST", "/v1/accounts", { body: { name: "a\u0085b", email: "c1@probe.test" } }], 400, "invalid_request", "body.name"],
  ["a name with U+202E (right-to-left override)", () => ["POST", "/v1/accounts", { body: { name: "a\u202eb", email: "bidi@probe.test" } }], 400, "invalid_request", "body.name"],
  ["a name with U+2066 (left-to-right isolate)", (c) => ["POST", `/v1/accounts/${c.accountId}/projects`, { body: { name: "a\u2066b" } }], 400, "invalid_request", "body.name"],
  ["a name with DEL", () => ["POST", "/v1/accounts", { body: { name: "a\u007fb", email: "del@probe.test" } }], 400, "invalid_request", "body.name"],
  ["an email with U+0001", () => ["POST", "/v1/accounts", { body: { name: "n", email: "a\u0001b@probe.test" } }], 400, "invalid_request", "body.email"],
  ["a name of 64 emoji", () => ["POST", "/v1/accounts", { body: { name: "\u{1F600}".repeat(64), email: "emoji64@probe.test" } }], 400, "invalid_request", "body.name"],
  ["a malformed multipart login", () => ["POST", "/debug/login", { token: null, raw: "--x\r\nnot a part", headers: { "content-type": "multipart/form-data; boundary=y" } }], 400, "invalid_request"],
  ["a cross-origin login", () => ["POST", "/debug/login", { token: null, raw: `token=${operatorToken}`, headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.test" } }], 403, "forbidden"],
  ["a cross-origin logout", () => ["POST", "/debug/logout", { token: null, headers: { origin: "https://evil.test" } }], 403, "forbidden"],
  ["an unknown method on a known path", (c) => ["PUT", `/v1/projects/${c.projectId}`, { body: { name: "p" } }], 405, "method_not_allowed"],
]

for (const [name, make, status, code, issuePath] of writeCases) {
  bad(`${name}: ${status} ${code}, nothing written`, async (ctx) => {
    const before = await rowCounts(ctx.fabric)
    const [method, path, init] = make(ctx)
    const r = await ctx.fabric.request(method, path, init)
    expectError(r, status, code)
    if (issuePath) assert.ok(r.json.error.issues?.some((i: { path: string }) => i.path === issuePath), `issues: ${JSON.stringify(r.json.error.issues)}`)
    assert.is(await rowCounts(ctx.fabric), before)
  })
}

const readCases: Array<[string, (c: any) => [string, Parameters<TestFabric["request"]>[2]], number, string]> = [
  ["account with a bad id", () => ["/v1/accounts/123", {}], 400, "invalid_request"],
  ["another account", (c) => [`/v1/accounts/${c.other.accountId}`, { token: c.apiKey }], 404, "not_found"],
  ["a missing account", () => ["/v1/accounts/acc_aaaaaaaaaaaaaaaaaaaa", {}], 404, "not_found"],
  ["project with a bad id", () => ["/v1/projects/prj_x", {}], 400, "invalid_request"],
  ["another account's project", (c) => [`/v1/projects/${c.other.projectId}`, { token: c.apiKey }], 404, "not_found"],
  ["watch another account's project", (c) => [`/v1/projects/${c.other.projectId}/watch`, { token: c.apiKey }], 404, "not_found"],
  ["list with limit 0", (c) => [`/v1/accounts/${c.accountId}/projects?limit=0`, {}], 400, "invalid_request"],
  ["list with limit 101", (c) => [`/v1/accounts/${c.accountId}/projects?limit=101`, {}], 400, "invalid_request"],
  ["list with a forged cursor", (c) => [`/v1/accounts/${c.accountId}/projects?cursor=!!!`, {}], 400, "invalid_request"],
  // Cursors that decode but are not Fabric's: a year the database cannot hold, a NUL, another shape.
  ["list with a cursor of year -271821", (c) => [`/v1/accounts/${c.accountId}/projects?cursor=${foreignCursor(["-271821-04-20T00:00:00Z", "x"])}`, {}], 400, "invalid_request"],
  ["list with a cursor holding a NUL", (c) => [`/v1/accounts/${c.accountId}/projects?cursor=${foreignCursor(["2026-01-01T00:00:00.000Z", "prj_\u0000"])}`, {}], 400, "invalid_request"],
  ["list with the cursor AAAA", (c) => [`/v1/accounts/${c.accountId}/projects?cursor=AAAA`, {}], 400, "invalid_request"],
  ["list with a cursor of {\"a\":1}", (c) => [`/v1/accounts/${c.accountId}/projects?cursor=${foreignCursor({ a: 1 })}`, {}], 400, "invalid_request"],
  ["list another account's projects", (c) => [`/v1/accounts/${c.other.accountId}/projects`, { token: c.apiKey }], 404, "not_found"],
  ["clusters with an account key", (c) => ["/v1/clusters", { token: c.apiKey }], 403, "forbidden"],
  ["clusters without a token", () => ["/v1/clusters", { token: null }], 401, "unauthorized"],
  ["an unknown route", () => ["/v1/nothing-here", {}], 404, "not_found"],
]

for (const [name, make, status, code] of readCases) {
  bad(`GET ${name}: ${status} ${code}`, async (ctx) => {
    const [path, init] = make(ctx)
    const r = await ctx.fabric.request("GET", path, init)
    expectError(r, status, code)
    if (path.includes("cursor=")) assert.match(r.json.error.message, /invalid cursor/)
  })
}

bad("invalid UTF-8 bytes in a JSON body: 400, nothing written (not stored with U+FFFD)", async (ctx) => {
  // Raw: the typed client only sends JSON it encoded itself.
  const before = await rowCounts(ctx.fabric)
  const bytes = new Uint8Array([...new TextEncoder().encode('{"name":"a'), 0xff, 0xfe, ...new TextEncoder().encode('b","email":"utf8@probe.test"}')])
  const response = await ctx.fabric.app.request("/v1/accounts", {
    method: "POST", body: bytes, headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
  })
  const r = { status: response.status, text: await response.clone().text(), json: await response.json() }
  expectError(r, 400, "invalid_request")
  assert.match(r.json.error.message, /UTF-8/)
  assert.is(await rowCounts(ctx.fabric), before)
})

bad("a name of 40 emoji (63 code points or fewer, as the schema says) is accepted and stored as sent", async (ctx) => {
  const name = "\u{1F680}".repeat(40)
  const created = await createProject(ctx.fabric.client, ctx.accountId, name)
  assert.is(created.name, name)
  assert.is((await expectOk(ctx.fabric.client.v1.projects[":projectId"].$get({ param: { projectId: created.id } }))).project.name, name)
})

bad("a signed cursor works for its own list only; one edited or taken to another account is 400 invalid cursor", async (ctx) => {
  for (const name of ["p1", "p2"]) await createProject(ctx.fabric.client, ctx.accountId, name)
  const list = (accountId: string, query: { limit?: string; cursor?: string }) =>
    ctx.fabric.client.v1.accounts[":accountId"].projects.$get({ param: { accountId }, query })
  const first = await expectOk(list(ctx.accountId, { limit: "1" }))
  const cursor = first.nextCursor
  assert.type(cursor, "string")
  const next = await expectOk(list(ctx.accountId, { limit: "1", cursor: cursor! }))
  assert.is.not(next.projects[0]!.id, first.projects[0]!.id)
  const edited = `${cursor!.slice(0, 4)}${cursor![4] === "A" ? "B" : "A"}${cursor!.slice(5)}`
  for (const [accountId, value] of [[ctx.accountId, edited], [ctx.other.accountId, cursor!]] as const) {
    const refused = await expectApiError(list(accountId, { cursor: value }))
    assert.is(refused.status, 400)
    assert.is(refused.body?.error.code, "invalid_request")
    assert.is(refused.body?.error.message, "invalid cursor")
  }
})

bad("the Bearer scheme is case-insensitive (RFC 9110)", async (ctx) => {
  // Raw: the typed client always writes "Bearer".
  for (const scheme of ["bearer", "BEARER", "Bearer"]) {
    const r = await ctx.fabric.request("GET", `/v1/accounts/${ctx.accountId}`, { token: null, headers: { authorization: `${scheme} ${operatorToken}` } })
    assert.is(r.status, 200, `${scheme}: ${r.text}`)
  }
})

/** A request over a socket: TRACE cannot be made with fetch's Request. */
const overHttp = (fabric: TestFabric, method: string, path: string) =>
  new Promise<{ status: number; allow: string | undefined; body: string }>((resolve, reject) => {
    const server = serve({ fetch: fabric.app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
      const req = httpRequest({ host: "127.0.0.1", port: info.port, path, method, headers: { authorization: `Bearer ${operatorToken}` } }, (res) => {
        let body = ""
        res.on("data", (chunk) => (body += chunk))
        res.on("end", () => server.close(() => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, body })))
      })
      req.on("error", reject)
      req.end()
    })
  })

bad("TRACE on a known path: 405 with Allow; OPTIONS: 204 with Allow; an unknown path stays 404", async (ctx) => {
  const before = await rowCounts(ctx.fabric)
  const trace = await overHttp(ctx.fabric, "TRACE", `/v1/projects/${ctx.projectId}`)
  assert.is(trace.status, 405, trace.body)
  assert.is(trace.allow, "GET, HEAD, DELETE")
  assert.is(JSON.parse(trace.body).error.code, "method_not_allowed")
  // Raw: the typed client has no OPTIONS, and no routes that are not served.
  const options = await ctx.fabric.app.request("/v1/accounts", { method: "OPTIONS", headers: { authorization: `Bearer ${operatorToken}` } })
  assert.is(options.status, 204)
  assert.is(options.headers.get("allow"), "POST, OPTIONS")
  assert.is((await ctx.fabric.request("PATCH", "/v1/nothing-here", {})).status, 404)
  assert.is(await rowCounts(ctx.fabric), before)
})

// Raw: a browser's login form and session cookie, not the typed client's bearer token.
const login = (fabric: TestFabric, token: string, headers: Record<string, string> = {}) =>
  fabric.app.request("/debug/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams({ token }).toString() })

bad("/debug: a logged-out session is refused on the server, and debug JSON is never cached", async (ctx) => {
  const loggedIn = await login(ctx.fabric, operatorToken, { origin: "http://localhost" })
  assert.is(loggedIn.status, 303)
  const cookie = (loggedIn.headers.get("set-cookie") ?? "").split(";")[0]!
  const machines = await ctx.fabric.app.request("/debug/api/machines", { headers: { cookie } })
  assert.is(machines.status, 200)
  assert.is(machines.headers.get("cache-control"), "no-store")
  const loggedOut = await ctx.fabric.app.request("/debug/logout", { method: "POST", headers: { cookie } })
  assert.is(loggedOut.status, 303)
  // The browser would drop the cookie; a copy of it must not work either.
  const replayed = await ctx.fabric.request("GET", "/debug/api/machines", { token: null, headers: { cookie } })
  expectError(replayed, 401, "unauthorized")
  assert.is(replayed.headers.get("cache-control"), "no-store")
})

// Last: it leaves this address throttled for the rest of the window.
bad("failed /debug logins are throttled: 429 with Retry-After, even for the right token, nothing written", async (ctx) => {
  const before = await rowCounts(ctx.fabric)
  let response = await login(ctx.fabric, "wrong")
  for (let i = 0; i < 20 && response.status === 401; i++) response = await login(ctx.fabric, "wrong")
  assert.is(response.status, 429)
  assert.ok(Number(response.headers.get("retry-after")) >= 1)
  assert.is(((await response.json()) as any).error.code, "too_many_requests")
  assert.is((await login(ctx.fabric, operatorToken)).status, 429)
  assert.is(await rowCounts(ctx.fabric), before)
})

bad("another account's project answers exactly like a missing one (no existence leak)", async (ctx) => {
  const read = (projectId: string) => expectApiError(ctx.fabric.clientFor(ctx.apiKey).v1.projects[":projectId"].$get({ param: { projectId } }))
  const theirs = await read(ctx.other.projectId)
  const missing = await read("prj_aaaaaaaaaaaaaaaaaaaa")
  assert.is(theirs.status, missing.status)
  assert.is(theirs.body?.error.code, missing.body?.error.code)
})

bad("health endpoints answer without a token", async (ctx) => {
  // Raw: the typed client always sends a token.
  assert.is((await ctx.fabric.request("GET", "/healthz", { token: null })).status, 200)
  assert.is((await ctx.fabric.request("GET", "/readyz", { token: null })).status, 200)
})

bad.run()
