// /v1/accounts over HTTP, on stand-in management services: what the boundary refuses (400 before any
// management call), lengths in code points, signed cursors, and 405 for other methods.
import { Effect } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { stubApp } from "../../tests/support/stub-app.ts"

const accountId = "acc_abcdefghijklmnopqrst"
const otherAccountId = "acc_bcdefghijklmnopqrstu"
const fabric = stubApp({
  createAccount: (body: { name: string; email: string }) => Effect.succeed({ account: { id: accountId, ...body, createdAt: "2026-01-01T00:00:00.000Z" }, project: {}, apiKey: "fab_x" }),
  createProject: (_caller: unknown, _account: string, body: { name: string }) => Effect.succeed({ id: "prj_abcdefghijklmnopqrst", ...body }),
  listProjects: (_caller: unknown, _account: string, page: { cursor?: string }) =>
    Effect.succeed({ items: [], nextCursor: page.cursor === undefined ? "position-1" : null }),
})
test.after(() => fabric.dispose())

const post = (path: string, body: string | Uint8Array<ArrayBuffer>) => fabric.request(path, { method: "POST", body, headers: { "content-type": "application/json" } })

const refusals: Array<[string, string, string | Uint8Array<ArrayBuffer>, string]> = [
  ["a NUL in an email", "/v1/accounts", '{"name":"n","email":"a\\u0000b@probe.test"}', "body.email"],
  ["a lone surrogate in a name", "/v1/accounts", '{"name":"a\\ud800b","email":"s@probe.test"}', "body.name"],
  ["U+0085 in a name", "/v1/accounts", JSON.stringify({ name: "a\u0085b", email: "c1@probe.test" }), "body.name"],
  ["U+202E in a name", "/v1/accounts", JSON.stringify({ name: "a\u202eb", email: "bidi@probe.test" }), "body.name"],
  ["U+2069 in a project name", `/v1/accounts/${accountId}/projects`, JSON.stringify({ name: "a\u2069b" }), "body.name"],
  ["U+0001 in an email", "/v1/accounts", JSON.stringify({ name: "n", email: "a\u0001b@probe.test" }), "body.email"],
  ["64 emoji as a name", "/v1/accounts", JSON.stringify({ name: "\u{1F600}".repeat(64), email: "e@probe.test" }), "body.name"],
  ["invalid UTF-8 bytes", "/v1/accounts", new Uint8Array([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), "body"],
]

for (const [name, path, body, issuePath] of refusals) {
  test(`${name}: 400 naming ${issuePath}, no management call`, async () => {
    const before = fabric.work().length
    const response = await post(path, body)
    const json = (await response.json()) as any
    assert.is(response.status, 400, JSON.stringify(json))
    assert.is(json.error.code, "invalid_request")
    assert.ok(json.error.issues.some((i: { path: string }) => i.path === issuePath), JSON.stringify(json.error.issues))
    assert.is(fabric.work().length, before)
  })
}

test("the message names the refused code point", async () => {
  const json = (await (await post("/v1/accounts", JSON.stringify({ name: "a\u202eb", email: "x@probe.test" }))).json()) as any
  assert.match(json.error.message, /U\+202E/)
})

test("63 emoji (126 UTF-16 units) are a name of 63 characters: accepted as sent", async () => {
  const name = "\u{1F600}".repeat(63)
  const response = await post("/v1/accounts", JSON.stringify({ name, email: "e63@probe.test" }))
  assert.is(response.status, 201)
  assert.is(((await response.json()) as any).account.name, name)
})

test("nextCursor is signed for its account: it opens to the store's position there and nowhere else", async () => {
  const first = (await (await fabric.request(`/v1/accounts/${accountId}/projects`)).json()) as any
  assert.match(first.nextCursor, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/)
  const next = await fabric.request(`/v1/accounts/${accountId}/projects?cursor=${first.nextCursor}`)
  assert.is(next.status, 200)
  assert.equal(fabric.calls.at(-1)!.args[2], { limit: 20, cursor: "position-1" })
  const before = fabric.work().length
  for (const cursor of [`AAAA`, btoa('{"a":1}').replace(/=+$/, ""), `${btoa("position-1").replace(/=+$/, "")}.${"A".repeat(43)}`]) {
    const r = await fabric.request(`/v1/accounts/${accountId}/projects?cursor=${encodeURIComponent(cursor)}`)
    assert.is(r.status, 400, cursor)
    assert.match(((await r.json()) as any).error.message, /invalid cursor/)
  }
  const elsewhere = await fabric.request(`/v1/accounts/${otherAccountId}/projects?cursor=${first.nextCursor}`)
  assert.is(elsewhere.status, 400)
  assert.is(((await elsewhere.json()) as any).error.message, "invalid cursor")
  assert.is(fabric.work().length, before)
})

test("a lowercase bearer scheme authenticates", async () => {
  const response = await fabric.app.request(`/v1/accounts/${accountId}/projects`, { headers: { authorization: `bearer ${"stub-operator-token-0123456789"}` } })
  assert.is(response.status, 200)
})

test("another method on /v1/accounts: 405 with Allow; OPTIONS: 204 with Allow", async () => {
  for (const method of ["PUT", "PATCH", "DELETE", "FOO"]) {
    const response = await fabric.request("/v1/accounts", { method })
    assert.is(response.status, 405, method)
    assert.is(response.headers.get("allow"), "POST")
    assert.is(((await response.json()) as any).error.code, "method_not_allowed")
  }
  const projects = await fabric.request(`/v1/accounts/${accountId}/projects`, { method: "DELETE" })
  assert.is(projects.status, 405)
  assert.is(projects.headers.get("allow"), "POST, GET, HEAD")
  const options = await fabric.request("/v1/accounts", { method: "OPTIONS" })
  assert.is(options.status, 204)
  assert.is(options.headers.get("allow"), "POST, OPTIONS")
  assert.is((await fabric.request("/v1/no-such-thing", { method: "PUT" })).status, 404)
})

test.run()
