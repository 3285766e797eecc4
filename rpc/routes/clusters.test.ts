// DELETE /v1/clusters/:clusterId through the app: the last Active cluster is refused (409) unless
// forced, a bad `force` is 400, an unknown cluster 404, and a second removal changes nothing.
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk } from "../client.ts"
import { clusterPhaseOf, expectApiError } from "../../tests/support/typed-api.ts"
import { startFabric, type TestFabric } from "../../tests/support/embedded-fabric.ts"

const removal = suite<{ fabric: TestFabric }>("DELETE /v1/clusters/:clusterId")

removal.before(async (ctx) => {
  ctx.fabric = await startFabric({ clusters: { "sim-a": {}, "sim-b": {} } })
})
removal.after(async (ctx) => ctx.fabric.stop())

const remove = (fabric: TestFabric, clusterId: string, query: { force?: "true" | "false" } = {}) =>
  fabric.client.v1.clusters[":clusterId"].$delete({ param: { clusterId }, query })

removal("a cluster with another one Active is removed (202); the last Active one is refused with 409 and stays Active", async ({ fabric }) => {
  const first = await remove(fabric, "sim-b")
  assert.is(first.status, 202)
  assert.is((await expectOk(first)).cluster.phase, "Removed")

  const last = await expectApiError(remove(fabric, "sim-a"))
  assert.is(last.status, 409)
  assert.is(last.body?.error.code, "conflict")
  assert.match(last.body?.error.message ?? "", /sim-a is the last Active cluster/)
  assert.match(last.body?.error.message ?? "", /force=true/)
  assert.is(await clusterPhaseOf(fabric.client, "sim-a"), "Active")
  // force=false is the same as no force
  assert.is((await expectApiError(remove(fabric, "sim-a", { force: "false" }))).status, 409)
})

removal("force must be true or false (400, named by its path)", async ({ fabric }) => {
  // Raw: the typed client only sends force=true or force=false.
  const r = await fabric.request("DELETE", "/v1/clusters/sim-a?force=yes")
  assert.is(r.status, 400, r.text)
  assert.equal(r.json.error.issues.map((i: { path: string }) => i.path), ["query.force"])
  assert.is(await clusterPhaseOf(fabric.client, "sim-a"), "Active")
})

removal("?force=true removes the last Active cluster; removing it again answers 202 and changes nothing", async ({ fabric }) => {
  for (const query of [{ force: "true" as const }, {}]) {
    const removed = await remove(fabric, "sim-a", query)
    assert.is(removed.status, 202)
    assert.is((await expectOk(removed)).cluster.phase, "Removed")
  }
  assert.is(await clusterPhaseOf(fabric.client, "sim-a"), "Removed")
})

removal("an unknown cluster is 404", async ({ fabric }) => {
  const unknown = await expectApiError(remove(fabric, "no-such-cluster", { force: "true" }))
  assert.is(unknown.status, 404)
  assert.is(unknown.body?.error.code, "not_found")
})

removal.run()
