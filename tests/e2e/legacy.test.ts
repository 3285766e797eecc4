// The old Demeter version keeps working: after Fabric creates accounts and projects, the
// demeter.* rows are what the old version reads, and its rules hold.
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk } from "../../rpc/client.ts"
import { deleteProject, expectApiError } from "../support/typed-api.ts"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"

const legacy = suite<{ fabric: TestFabric }>("legacy Demeter compatibility")
legacy.before(async (ctx) => { ctx.fabric = await startFabric() })
legacy.after(async (ctx) => ctx.fabric.stop())

const counts = async (fabric: TestFabric) => {
  const [row] = await fabric.sql(`select
    (select count(*)::int from demeter.accounts) as accounts, (select count(*)::int from demeter.users) as users,
    (select count(*)::int from demeter.projects) as projects, (select count(*)::int from demeter.audit_log) as audit,
    (select count(*)::int from fabric.accounts) as fabric_accounts, (select count(*)::int from fabric.projects) as fabric_projects,
    (select count(*)::int from fabric.outbox) as outbox, (select count(*)::int from fabric.actor_snapshots) as snapshots`)
  return row
}

// Responses, not bodies: the refusals (duplicate email, quota) are looked at too.
const postAccount = (fabric: TestFabric, name: string, email: string) => fabric.client.v1.accounts.$post({ json: { name, email } })

const postProject = (fabric: TestFabric, accountId: string, name: string) =>
  fabric.client.v1.accounts[":accountId"].projects.$post({ param: { accountId }, json: { name } })

legacy("account creation writes the account, its owner user, the default project and audit rows", async ({ fabric }) => {
  const { account, project } = await expectOk(postAccount(fabric, "Old Co", "Owner@OldCo.test"))
  // The queries the old version runs (by account id, by email, by namespace).
  const [acc] = await fabric.sql("select id, name, project_quota, status from demeter.accounts where id = $1", account.id)
  assert.equal({ ...acc }, { id: account.id, name: "Old Co", project_quota: 10, status: "active" })
  const [user] = await fabric.sql("select account_id, email, role from demeter.users where lower(email) = lower($1)", "owner@oldco.test")
  assert.equal({ ...user }, { account_id: account.id, email: "Owner@OldCo.test", role: "owner" })
  const [prj] = await fabric.sql("select id, account_id, name, namespace, status from demeter.projects where namespace = $1", project.namespace)
  assert.equal({ ...prj }, { id: project.id, account_id: account.id, name: "Old Co", namespace: project.namespace, status: "active" })
  const audit = await fabric.sql("select action, entity_id from demeter.audit_log where account_id = $1 order by id", account.id)
  assert.equal(audit.map((a) => `${a.action}:${a.entity_id}`), [`account.created:${account.id}`, `project.created:${project.id}`])
})

legacy("a duplicate email (any case) answers 409 and writes nothing", async ({ fabric }) => {
  await expectOk(postAccount(fabric, "First", "dup@example.test"))
  const before = await counts(fabric)
  const duplicate = await expectApiError(postAccount(fabric, "Second", "DUP@example.test"))
  assert.is(duplicate.status, 409)
  assert.is(duplicate.body?.error.code, "conflict")
  assert.match(duplicate.body?.error.message ?? "", /already exists/)
  assert.equal(await counts(fabric), before)
})

legacy("the project quota answers 422 and writes nothing; a deleted project frees its slot", async ({ fabric }) => {
  const { account } = await expectOk(postAccount(fabric, "Quota", "quota@example.test"))
  await fabric.sql("update demeter.accounts set project_quota = 2 where id = $1", account.id)
  const { project: second } = await expectOk(postProject(fabric, account.id, "two"))
  const before = await counts(fabric)
  const third = await expectApiError(postProject(fabric, account.id, "three"))
  assert.is(third.status, 422)
  assert.is(third.body?.error.code, "quota_exceeded")
  assert.equal(await counts(fabric), before)

  await fabric.waitForProject(second.id, (p) => p.phase === "Ready")
  await deleteProject(fabric.client, second.id)
  await fabric.waitForProject(second.id, (p) => p.phase === "Deleted")
  const again = await postProject(fabric, account.id, "three")
  assert.is(again.status, 201)
  const audit = await fabric.sql("select action from demeter.audit_log where entity_id = $1", second.id)
  assert.equal(audit.map((a) => a.action).sort(), ["project.created", "project.deleted"])
})

legacy("concurrent creations cannot exceed the quota", async ({ fabric }) => {
  const { account } = await expectOk(postAccount(fabric, "Race", "race@example.test"))
  await fabric.sql("update demeter.accounts set project_quota = 3 where id = $1", account.id)
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => postProject(fabric, account.id, `p${i}`)))
  assert.equal(results.map((r) => r.status).sort(), [201, 201, 422, 422, 422, 422])
  const [row] = await fabric.sql("select count(*)::int as n from demeter.projects where account_id = $1 and status = 'active'", account.id)
  assert.is(row.n, 3)
})

legacy("FABRIC_PROJECT_QUOTA sets the quota of new accounts", async () => {
  const fabric = await startFabric({ env: { FABRIC_PROJECT_QUOTA: "2" } })
  try {
    const { account } = await expectOk(postAccount(fabric, "Small", "small@example.test"))
    const [row] = await fabric.sql("select project_quota from demeter.accounts where id = $1", account.id)
    assert.is(row.project_quota, 2)
    assert.is((await postProject(fabric, account.id, "second")).status, 201)
    const third = await expectApiError(postProject(fabric, account.id, "third"))
    assert.is(third.status, 422)
    assert.is(third.body?.error.code, "quota_exceeded")
  } finally {
    await fabric.stop()
  }
})

legacy.run()
