// Idempotency-Key: a replay answers the first response and creates nothing; another body is 409.
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk } from "../../rpc/client.ts"
import { expectApiError, withIdempotencyKey } from "../support/typed-api.ts"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"

const idem = suite<{ fabric: TestFabric }>("idempotency")
idem.before(async (ctx) => { ctx.fabric = await startFabric() })
idem.after(async (ctx) => ctx.fabric.stop())

const totals = (fabric: TestFabric) =>
  fabric.sql(`select (select count(*)::int from demeter.accounts) as accounts, (select count(*)::int from demeter.projects) as projects,
    (select count(*)::int from fabric.outbox) as outbox`).then((r) => ({ ...r[0] }))

idem("an account replay returns the same account and project and creates nothing new", async ({ fabric }) => {
  const create = () => fabric.client.v1.accounts.$post({ json: { name: "Acme", email: "acme@example.test" } }, withIdempotencyKey("create-acme-1"))
  const first = await create()
  assert.is(first.status, 201)
  const created = await expectOk(first)
  const after = await totals(fabric)
  const replay = await create()
  assert.is(replay.status, 201)
  const replayed = await expectOk(replay)
  assert.equal(replayed.account, created.account)
  assert.equal(replayed.project, created.project)
  // The API key is shown once: it is never stored, so a replay cannot show it again.
  assert.is(replayed.apiKey, null)
  assert.equal(await totals(fabric), after)
})

idem("the same key with another body is 409 and writes nothing", async ({ fabric }) => {
  await expectOk(fabric.client.v1.accounts.$post({ json: { name: "One", email: "one@example.test" } }, withIdempotencyKey("create-other")))
  const before = await totals(fabric)
  const refused = await expectApiError(fabric.client.v1.accounts.$post({ json: { name: "Two", email: "two@example.test" } }, withIdempotencyKey("create-other")))
  assert.is(refused.status, 409)
  assert.is(refused.body?.error.code, "conflict")
  assert.equal(await totals(fabric), before)
})

idem("project replays (sequential and concurrent) create one project", async ({ fabric }) => {
  const acc = await expectOk(fabric.client.v1.accounts.$post({ json: { name: "Proj", email: "proj@example.test" } }))
  const create = () => fabric.clientFor(acc.apiKey!).v1.accounts[":accountId"].projects.$post(
    { param: { accountId: acc.account.id }, json: { name: "X" } }, withIdempotencyKey("project-x"))
  const results = await Promise.all([1, 2, 3].map(create))
  assert.equal(results.map((r) => r.status), [201, 201, 201])
  const projects = await Promise.all(results.map((r) => expectOk(r)))
  assert.is(new Set(projects.map((r) => r.project.id)).size, 1)
  const again = await expectOk(create())
  assert.is(again.project.id, projects[0]!.project.id)
  const [row] = await fabric.sql("select count(*)::int as n from demeter.projects where account_id = $1", acc.account.id)
  assert.is(row.n, 2) // the default project and X, once
})

idem("keys are scoped per account: two accounts may use the same key", async ({ fabric }) => {
  const projectOf = async (name: string, email: string) => {
    const acc = await expectOk(fabric.client.v1.accounts.$post({ json: { name, email } }))
    const created = await fabric.clientFor(acc.apiKey!).v1.accounts[":accountId"].projects.$post(
      { param: { accountId: acc.account.id }, json: { name: "p" } }, withIdempotencyKey("shared-key"))
    assert.is(created.status, 201)
    return (await expectOk(created)).project
  }
  const pa = await projectOf("A", "a@example.test")
  const pb = await projectOf("B", "b@example.test")
  assert.is.not(pa.id, pb.id)
})

idem("listing pages through every project once with the cursor", async ({ fabric }) => {
  const acc = await expectOk(fabric.client.v1.accounts.$post({ json: { name: "Pages", email: "pages@example.test" } }))
  const param = { accountId: acc.account.id }
  for (let i = 0; i < 6; i++) await expectOk(fabric.client.v1.accounts[":accountId"].projects.$post({ param, json: { name: `page ${i}` } }))
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const page: { projects: ReadonlyArray<{ id: string }>; nextCursor: string | null } =
      await expectOk(fabric.client.v1.accounts[":accountId"].projects.$get({ param, query: { limit: "3", ...(cursor ? { cursor } : {}) } }))
    assert.ok(page.projects.length <= 3)
    seen.push(...page.projects.map((p) => p.id))
    cursor = page.nextCursor
  } while (cursor)
  assert.is(seen.length, 7)
  assert.is(new Set(seen).size, 7)
})

idem.run()
