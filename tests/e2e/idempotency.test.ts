// Idempotency-Key: a replay answers the first response and creates nothing; another body is 409.
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"

const idem = suite<{ fabric: TestFabric }>("idempotency")
idem.before(async (ctx) => { ctx.fabric = await startFabric() })
idem.after(async (ctx) => ctx.fabric.stop())

const totals = (fabric: TestFabric) =>
  fabric.sql(`select (select count(*)::int from demeter.accounts) as accounts, (select count(*)::int from demeter.projects) as projects,
    (select count(*)::int from fabric.outbox) as outbox`).then((r) => ({ ...r[0] }))

idem("an account replay returns the same account and project and creates nothing new", async ({ fabric }) => {
  const headers = { "idempotency-key": "create-acme-1" }
  const first = await fabric.request("POST", "/v1/accounts", { body: { name: "Acme", email: "acme@example.test" }, headers })
  assert.is(first.status, 201)
  const after = await totals(fabric)
  const replay = await fabric.request("POST", "/v1/accounts", { body: { name: "Acme", email: "acme@example.test" }, headers })
  assert.is(replay.status, 201)
  assert.equal(replay.json.account, first.json.account)
  assert.equal(replay.json.project, first.json.project)
  // The API key is shown once: it is never stored, so a replay cannot show it again.
  assert.is(replay.json.apiKey, null)
  assert.equal(await totals(fabric), after)
})

idem("the same key with another body is 409 and writes nothing", async ({ fabric }) => {
  const headers = { "idempotency-key": "create-other" }
  await fabric.request("POST", "/v1/accounts", { body: { name: "One", email: "one@example.test" }, headers })
  const before = await totals(fabric)
  const r = await fabric.request("POST", "/v1/accounts", { body: { name: "Two", email: "two@example.test" }, headers })
  assert.is(r.status, 409)
  assert.is(r.json.error.code, "conflict")
  assert.equal(await totals(fabric), before)
})

idem("project replays (sequential and concurrent) create one project", async ({ fabric }) => {
  const acc = await fabric.request("POST", "/v1/accounts", { body: { name: "Proj", email: "proj@example.test" } })
  const path = `/v1/accounts/${acc.json.account.id}/projects`
  const headers = { "idempotency-key": "project-x" }
  const results = await Promise.all([1, 2, 3].map(() => fabric.request("POST", path, { body: { name: "X" }, headers, token: acc.json.apiKey })))
  assert.equal(results.map((r) => r.status), [201, 201, 201])
  assert.is(new Set(results.map((r) => r.json.project.id)).size, 1)
  const again = await fabric.request("POST", path, { body: { name: "X" }, headers, token: acc.json.apiKey })
  assert.is(again.json.project.id, results[0]!.json.project.id)
  const [row] = await fabric.sql("select count(*)::int as n from demeter.projects where account_id = $1", acc.json.account.id)
  assert.is(row.n, 2) // the default project and X, once
})

idem("keys are scoped per account: two accounts may use the same key", async ({ fabric }) => {
  const a = await fabric.request("POST", "/v1/accounts", { body: { name: "A", email: "a@example.test" } })
  const b = await fabric.request("POST", "/v1/accounts", { body: { name: "B", email: "b@example.test" } })
  const headers = { "idempotency-key": "shared-key" }
  const pa = await fabric.request("POST", `/v1/accounts/${a.json.account.id}/projects`, { body: { name: "p" }, headers, token: a.json.apiKey })
  const pb = await fabric.request("POST", `/v1/accounts/${b.json.account.id}/projects`, { body: { name: "p" }, headers, token: b.json.apiKey })
  assert.is(pa.status, 201)
  assert.is(pb.status, 201)
  assert.is.not(pa.json.project.id, pb.json.project.id)
})

idem("listing pages through every project once with the cursor", async ({ fabric }) => {
  const acc = await fabric.request("POST", "/v1/accounts", { body: { name: "Pages", email: "pages@example.test" } })
  const id = acc.json.account.id
  for (let i = 0; i < 6; i++) await fabric.request("POST", `/v1/accounts/${id}/projects`, { body: { name: `page ${i}` } })
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const r: { status: number; json: any } = await fabric.request("GET", `/v1/accounts/${id}/projects?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)
    assert.is(r.status, 200)
    assert.ok(r.json.projects.length <= 3)
    seen.push(...r.json.projects.map((p: { id: string }) => p.id))
    cursor = r.json.nextCursor
  } while (cursor)
  assert.is(seen.length, 7)
  assert.is(new Set(seen).size, 7)
})

idem.run()
