// /v1/projects/:projectId/resources over HTTP, on stand-in management services: what the boundary
// refuses before any management call (ids, the body's shape), the merge-patch media type, signed
// cursors scoped to the project, and 405 for other methods.
import { Effect } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { stubApp } from "../../tests/support/stub-app.ts"

const projectId = "prj_abcdefghijklmnopqrst"
const resourceId = "res_abcdefghijklmnopqrst"
const fabric = stubApp({
  createResource: (_caller: unknown, _project: string, body: unknown) => Effect.succeed({ id: resourceId, ...(body as object) }),
  patchResource: (_caller: unknown, _project: string, _resource: string, patch: unknown) => Effect.succeed({ id: resourceId, patch }),
  listResources: (_caller: unknown, _project: string, page: { cursor?: string }) => Effect.succeed({ items: [], nextCursor: page.cursor === undefined ? "position-1" : null }),
})
test.after(() => fabric.dispose())

const send = (method: string, path: string, body?: string, contentType = "application/json") =>
  fabric.request(path, { method, ...(body === undefined ? {} : { body, headers: { "content-type": contentType } }) })

const refusals: Array<[string, string, string, string | undefined, string]> = [
  ["a bad project id", "POST", "/v1/projects/prj_NOPE/resources", JSON.stringify({ kind: "KupoPort", spec: {} }), "param.projectId"],
  ["a bad resource id", "GET", `/v1/projects/${projectId}/resources/res_nope`, undefined, "param.resourceId"],
  ["no kind", "POST", `/v1/projects/${projectId}/resources`, JSON.stringify({ spec: {} }), "body.kind"],
  ["a spec that is not an object", "POST", `/v1/projects/${projectId}/resources`, JSON.stringify({ kind: "KupoPort", spec: "x" }), "body.spec"],
  ["a name that is not a DNS-1123 label", "POST", `/v1/projects/${projectId}/resources`, JSON.stringify({ kind: "KupoPort", name: "-x", spec: {} }), "body.name"],
  ["a patch without spec", "PATCH", `/v1/projects/${projectId}/resources/${resourceId}`, JSON.stringify({ name: "other" }), "body.spec"],
  ["a patch removing the spec", "PATCH", `/v1/projects/${projectId}/resources/${resourceId}`, JSON.stringify({ spec: null }), "body.spec"],
  ["a limit of 0", "GET", `/v1/projects/${projectId}/resources?limit=0`, undefined, "query.limit"],
]

for (const [name, method, path, body, issuePath] of refusals) {
  test(`${name}: 400 naming ${issuePath}, no management call`, async () => {
    const before = fabric.work().length
    const response = await send(method, path, body)
    const json = (await response.json()) as any
    assert.is(response.status, 400, JSON.stringify(json))
    assert.ok(json.error.issues.some((i: { path: string }) => i.path === issuePath), JSON.stringify(json.error.issues))
    assert.is(fabric.work().length, before)
  })
}

test("a merge patch as application/merge-patch+json reaches Resources.patchResource as sent", async () => {
  const response = await send("PATCH", `/v1/projects/${projectId}/resources/${resourceId}`, JSON.stringify({ spec: { throughputTier: 2, matchPatterns: null } }), "application/merge-patch+json")
  assert.is(response.status, 200)
  assert.equal(fabric.calls.at(-1)!.args.slice(1), [projectId, resourceId, { spec: { throughputTier: 2, matchPatterns: null } }])
})

test("create is 201 with the validated body; an Idempotency-Key of bad characters is refused first", async () => {
  const created = await send("POST", `/v1/projects/${projectId}/resources`, JSON.stringify({ kind: "KupoPort", spec: { network: "mainnet" } }))
  assert.is(created.status, 201)
  assert.equal(fabric.calls.at(-1)!.args.slice(1, 3), [projectId, { kind: "KupoPort", spec: { network: "mainnet" } }])
  const before = fabric.work().length
  const bad = await fabric.request(`/v1/projects/${projectId}/resources`, {
    method: "POST", body: JSON.stringify({ kind: "KupoPort", spec: {} }), headers: { "content-type": "application/json", "idempotency-key": "two words" },
  })
  assert.is(bad.status, 400)
  assert.is(fabric.work().length, before)
})

test("nextCursor is signed for the project: refused for another project, or as a project list's cursor", async () => {
  const first = (await (await send("GET", `/v1/projects/${projectId}/resources`)).json()) as any
  assert.is((await send("GET", `/v1/projects/${projectId}/resources?cursor=${first.nextCursor}`)).status, 200)
  assert.equal(fabric.calls.at(-1)!.args[2], { limit: 20, cursor: "position-1" })
  const before = fabric.work().length
  assert.is((await send("GET", `/v1/projects/prj_bcdefghijklmnopqrstu/resources?cursor=${first.nextCursor}`)).status, 400)
  assert.is((await send("GET", `/v1/accounts/acc_abcdefghijklmnopqrst/projects?cursor=${first.nextCursor}`)).status, 400)
  assert.is(fabric.work().length, before)
})

test("other methods: 405 with Allow", async () => {
  const list = await send("PUT", `/v1/projects/${projectId}/resources`)
  assert.is(list.status, 405)
  assert.is(list.headers.get("allow"), "POST, GET, HEAD")
  const one = await send("POST", `/v1/projects/${projectId}/resources/${resourceId}`)
  assert.is(one.status, 405)
  assert.is(one.headers.get("allow"), "GET, HEAD, PATCH, DELETE")
})

test.run()
