// The three seed flows (docs/flows.md) end to end through HTTP on the embedded layers.
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk } from "../../rpc/client.ts"
import { isOwnedBy } from "../../src/services/cluster.ts"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"

const flows = suite<{ fabric: TestFabric }>("seed flows")

flows.before(async (ctx) => {
  // sim-c answers slowly: a project must show it Pending while the others are already Ready.
  ctx.fabric = await startFabric({ clusters: { "sim-a": {}, "sim-b": {}, "sim-c": { latencyMs: 1500 } } })
})
flows.after(async (ctx) => ctx.fabric.stop())

flows("account creation: legacy rows, default project, Ready in every cluster with Fabric's labels", async ({ fabric }) => {
  const created = await fabric.client.v1.accounts.$post({ json: { name: "Acme Corp", email: "ops@acme.test" } })
  assert.is(created.status, 201)
  const { account, project, apiKey } = await expectOk(created)
  assert.match(account.id, /^acc_[a-z2-7]{20}$/)
  assert.is(account.email, "ops@acme.test")
  assert.match(apiKey!, /^fab_[A-Za-z0-9]{40}$/)
  assert.is(project.accountId, account.id)
  assert.match(project.namespace, /^prj-acme-corp-[a-z0-9]{6}$/)
  assert.is(project.phase, "Provisioning")
  assert.equal(Object.keys(project.clusters).sort(), ["sim-a", "sim-b", "sim-c"])

  const ready = await fabric.waitForProject(project.id, (p) => p.phase === "Ready")
  for (const [id, status] of Object.entries(ready.clusters)) {
    assert.is(status.phase, "Ready", id)
    assert.is(status.observedGeneration, 1)
    const ns = fabric.states.get(id)!.lookup(project.namespace)
    assert.ok(ns, `namespace missing in ${id}`)
    assert.ok(isOwnedBy(ns!.labels, project.id), `labels in ${id}: ${JSON.stringify(ns!.labels)}`)
    assert.is(ns!.annotations["fabric.demeter.run/account"], account.id)
  }
  // The account's own key reads its project; the key is stored only as a hash.
  const own = await fabric.clientFor(apiKey!).v1.projects[":projectId"].$get({ param: { projectId: project.id } })
  assert.is(own.status, 200)
  const stored = await fabric.sql("select api_key_hash from fabric.accounts where id = $1", account.id)
  assert.is.not(stored[0].api_key_hash, apiKey)
  assert.match(stored[0].api_key_hash, /^[0-9a-f]{64}$/)
})

flows("project creation: a new project becomes Ready in every cluster", async ({ fabric }) => {
  const acc = await expectOk(fabric.client.v1.accounts.$post({ json: { name: "Beta", email: "beta@example.test" } }))
  const accountId = acc.account.id
  const created = await fabric.clientFor(acc.apiKey!).v1.accounts[":accountId"].projects.$post({ param: { accountId }, json: { name: "Payments API" } })
  assert.is(created.status, 201)
  const { project } = await expectOk(created)
  assert.match(project.namespace, /^prj-payments-api-[a-z0-9]{6}$/)
  const ready = await fabric.waitForProject(project.id, (p) => p.phase === "Ready")
  assert.equal(Object.values(ready.clusters).map((c) => c.phase), ["Ready", "Ready", "Ready"])
  for (const state of fabric.states.values()) assert.ok(state.lookup(project.namespace))
  const listed = await expectOk(fabric.client.v1.accounts[":accountId"].projects.$get({ param: { accountId }, query: {} }))
  assert.equal(listed.projects.map((p) => p.id).sort(), [acc.project.id, project.id].sort())
})

flows("per-cluster status is visible while provisioning: the slow cluster is Pending, the others Ready", async ({ fabric }) => {
  const acc = await expectOk(fabric.client.v1.accounts.$post({ json: { name: "Gamma", email: "gamma@example.test" } }))
  const seen = await fabric.waitForProject(acc.project.id, (p) => p.clusters["sim-a"]?.phase === "Ready" && p.clusters["sim-b"]?.phase === "Ready")
  assert.is(seen.clusters["sim-c"]!.phase, "Pending")
  assert.is(seen.phase, "Provisioning")
  const ready = await fabric.waitForProject(acc.project.id, (p) => p.phase === "Ready")
  assert.is(ready.clusters["sim-c"]!.phase, "Ready")
})

flows("watch streams the whole project at once and on every change until Ready", async ({ fabric }) => {
  const acc = await expectOk(fabric.client.v1.accounts.$post({ json: { name: "Delta", email: "delta@example.test" } }))
  const response = await fabric.clientFor(acc.apiKey!).v1.projects[":projectId"].watch.$get({ param: { projectId: acc.project.id } })
  assert.is(response.status, 200)
  assert.match(response.headers.get("content-type") ?? "", /text\/event-stream/)
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let text = ""
  const phases: string[] = []
  while (!phases.includes("Ready")) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
    phases.splice(0, phases.length, ...[...text.matchAll(/event: project\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]!).phase))
  }
  await reader.cancel()
  assert.is(phases[0], "Provisioning")
  assert.is(phases[phases.length - 1], "Ready")
  assert.ok(phases.length >= 2)
  const events = [...text.matchAll(/data: (.*)\n/g)].map((m) => JSON.parse(m[1]!))
  assert.ok(events.every((p) => p.id === acc.project.id && typeof p.clusters === "object"))
})

flows("deletion: 202 Deleting, every namespace really gone, project Deleted, legacy row marked deleted", async ({ fabric }) => {
  const acc = await expectOk(fabric.client.v1.accounts.$post({ json: { name: "Epsilon", email: "eps@example.test" } }))
  const project = await fabric.waitForProject(acc.project.id, (p) => p.phase === "Ready")
  const owner = fabric.clientFor(acc.apiKey!)
  const deleted = await owner.v1.projects[":projectId"].$delete({ param: { projectId: project.id } })
  assert.is(deleted.status, 202)
  const deleting = (await expectOk(deleted)).project
  assert.is(deleting.phase, "Deleting")
  assert.is(deleting.generation, 2)
  const gone = await fabric.waitForProject(project.id, (p) => p.phase === "Deleted")
  assert.equal(Object.values(gone.clusters).map((c) => c.phase), ["Deleted", "Deleted", "Deleted"])
  for (const state of fabric.states.values()) assert.is(state.lookup(project.namespace), undefined)
  const legacy = await fabric.sql("select status, deleted_at from demeter.projects where id = $1", project.id)
  assert.is(legacy[0].status, "deleted")
  assert.ok(legacy[0].deleted_at instanceof Date)
  const again = await owner.v1.projects[":projectId"].$delete({ param: { projectId: project.id } })
  assert.is(again.status, 202)
  assert.is((await expectOk(again)).project.phase, "Deleted")
})

flows.run()
