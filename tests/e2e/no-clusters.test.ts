// No project is Ready on nothing: with its last cluster removed (by force) a Ready project goes
// back to Provisioning with no clusters, a new project is Provisioning too, and both become Ready
// once a cluster joins and its daemon creates their namespaces.
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"

const noClusters = suite<{ fabric: TestFabric }>("no member clusters")

noClusters.before(async (ctx) => {
  ctx.fabric = await startFabric({ clusters: { "sim-a": {} } })
})
noClusters.after(async (ctx) => ctx.fabric.stop())

noClusters("the last cluster is kept unless forced; without one projects are Provisioning, and Ready again when a cluster joins", async ({ fabric }) => {
  const created = await fabric.request("POST", "/v1/accounts", { body: { name: "Lonely", email: "lonely@example.test" } })
  assert.is(created.status, 201, created.text)
  const accountId = created.json.account.id as string
  const first = await fabric.waitForProject(created.json.project.id, (p) => p.phase === "Ready")

  const refused = await fabric.request("DELETE", "/v1/clusters/sim-a")
  assert.is(refused.status, 409, refused.text)
  assert.is((await fabric.request("GET", `/v1/projects/${first.id}`)).json.project.phase, "Ready")

  assert.is((await fabric.request("DELETE", "/v1/clusters/sim-a?force=true")).status, 202)
  const orphaned = await fabric.waitForProject(first.id, (p) => Object.keys(p.clusters).length === 0)
  assert.is(orphaned.phase, "Provisioning")

  const later = await fabric.request("POST", `/v1/accounts/${accountId}/projects`, { body: { name: "Nowhere" } })
  assert.is(later.status, 201, later.text)
  assert.is(later.json.project.phase, "Provisioning")
  assert.equal(later.json.project.clusters, {})
  // It stays so: nothing is going to report for it.
  await new Promise((r) => setTimeout(r, 500))
  assert.is((await fabric.request("GET", `/v1/projects/${later.json.project.id}`)).json.project.phase, "Provisioning")

  const joined = fabric.addCluster("sim-b")
  for (const id of [first.id, later.json.project.id as string]) {
    const ready = await fabric.waitForProject(id, (p) => p.phase === "Ready")
    assert.equal(Object.keys(ready.clusters), ["sim-b"])
    assert.ok(joined.lookup(ready.namespace), `sim-b lacks ${ready.namespace}`)
  }
})

noClusters.run()
