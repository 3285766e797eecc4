// Bad input on every endpoint: the right 4xx, the error shape of docs/api.md, and nothing written.
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"

const bad = suite<{ fabric: TestFabric; accountId: string; projectId: string; apiKey: string; other: { accountId: string; projectId: string; apiKey: string } }>("bad input")

bad.before(async (ctx) => {
  ctx.fabric = await startFabric()
  const a = await ctx.fabric.request("POST", "/v1/accounts", { body: { name: "Mine", email: "mine@example.test" } })
  const b = await ctx.fabric.request("POST", "/v1/accounts", { body: { name: "Theirs", email: "theirs@example.test" } })
  Object.assign(ctx, { accountId: a.json.account.id, projectId: a.json.project.id, apiKey: a.json.apiKey })
  ctx.other = { accountId: b.json.account.id, projectId: b.json.project.id, apiKey: b.json.apiKey }
})
bad.after(async (ctx) => ctx.fabric.stop())

const rowCounts = (fabric: TestFabric) =>
  fabric.sql(`select (select count(*) from demeter.accounts) + (select count(*) from demeter.users) + (select count(*) from demeter.projects)
    + (select count(*) from demeter.audit_log) + (select count(*) from fabric.accounts) + (select count(*) from fabric.projects)
    + (select count(*) from fabric.outbox) + (select count(*) from fabric.actor_snapshots) + (select count(*) from fabric.idempotency_keys) as n`).then((r) => Number(r[0].n))

const expectError = (r: { status: number; json: any; text: string }, status: number, code: string) => {
  assert.is(r.status, status, r.text)
  assert.type(r.json?.error, "object", r.text)
  assert.is(r.json.error.code, code)
  assert.type(r.json.error.message, "string")
  assert.ok(r.json.error.message.length > 0)
}

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
  ["list another account's projects", (c) => [`/v1/accounts/${c.other.accountId}/projects`, { token: c.apiKey }], 404, "not_found"],
  ["clusters with an account key", (c) => ["/v1/clusters", { token: c.apiKey }], 403, "forbidden"],
  ["clusters without a token", () => ["/v1/clusters", { token: null }], 401, "unauthorized"],
  ["an unknown route", () => ["/v1/nothing-here", {}], 404, "not_found"],
]

for (const [name, make, status, code] of readCases) {
  bad(`GET ${name}: ${status} ${code}`, async (ctx) => {
    const [path, init] = make(ctx)
    expectError(await ctx.fabric.request("GET", path, init), status, code)
  })
}

bad("another account's project answers exactly like a missing one (no existence leak)", async (ctx) => {
  const theirs = await ctx.fabric.request("GET", `/v1/projects/${ctx.other.projectId}`, { token: ctx.apiKey })
  const missing = await ctx.fabric.request("GET", "/v1/projects/prj_aaaaaaaaaaaaaaaaaaaa", { token: ctx.apiKey })
  assert.is(theirs.status, missing.status)
  assert.is(theirs.json.error.code, missing.json.error.code)
})

bad("health endpoints answer without a token", async (ctx) => {
  assert.is((await ctx.fabric.request("GET", "/healthz", { token: null })).status, 200)
  assert.is((await ctx.fabric.request("GET", "/readyz", { token: null })).status, 200)
})

bad.run()
