// No project is Ready on nothing: with its last cluster removed (by force) a Ready project goes
// back to Provisioning with no clusters, a new project is Provisioning too, and both become Ready
// once a cluster joins and its daemon creates their namespaces.
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk } from "../../rpc/client.ts"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"
import { createProject, expectApiError } from "../support/typed-api.ts"

const noClusters = suite<{ fabric: TestFabric }>("no member clusters")

noClusters.before(async (ctx) => {
  ctx.fabric = await startFabric({ clusters: { "sim-a": {} } })
})
noClusters.after(async (ctx) => ctx.fabric.stop())

noClusters("the last cluster is kept unless forced; without one projects are Provisioning, and Ready again when a cluster joins", async ({ fabric }) => {
  const created = await expectOk(fabric.client.v1.accounts.$post({ json: { name: "Lonely", email: "lonely@example.test" } }))
  const first = await fabric.waitForProject(created.project.id, (p) => p.phase === "Ready")
  const phaseOf = async (projectId: string) =>
    (await expectOk(fabric.client.v1.projects[":projectId"].$get({ param: { projectId } }))).project.phase
  const removeSimA = (query: { force?: "true" }) => fabric.client.v1.clusters[":clusterId"].$delete({ param: { clusterId: "sim-a" }, query })

  assert.is((await expectApiError(removeSimA({}))).status, 409)
  assert.is(await phaseOf(first.id), "Ready")

  assert.is((await removeSimA({ force: "true" })).status, 202)
  const orphaned = await fabric.waitForProject(first.id, (p) => Object.keys(p.clusters).length === 0)
  assert.is(orphaned.phase, "Provisioning")

  const later = await createProject(fabric.client, created.account.id, "Nowhere")
  assert.is(later.phase, "Provisioning")
  assert.equal(later.clusters, {})
  // It stays so: nothing is going to report for it.
  await new Promise((r) => setTimeout(r, 500))
  assert.is(await phaseOf(later.id), "Provisioning")

  const joined = fabric.addCluster("sim-b")
  for (const id of [first.id, later.id]) {
    const ready = await fabric.waitForProject(id, (p) => p.phase === "Ready")
    assert.equal(Object.keys(ready.clusters), ["sim-b"])
    assert.ok(joined.lookup(ready.namespace), `sim-b lacks ${ready.namespace}`)
  }
})

noClusters.run()
