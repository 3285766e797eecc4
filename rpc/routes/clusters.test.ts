// DELETE /v1/clusters/:clusterId through the app: the last Active cluster is refused (409) unless
// forced, a bad `force` is 400, an unknown cluster 404, and a second removal changes nothing.
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { startFabric, type TestFabric } from "../../tests/support/embedded-fabric.ts"

const removal = suite<{ fabric: TestFabric }>("DELETE /v1/clusters/:clusterId")

removal.before(async (ctx) => {
  ctx.fabric = await startFabric({ clusters: { "sim-a": {}, "sim-b": {} } })
})
removal.after(async (ctx) => ctx.fabric.stop())

const phaseOf = async (fabric: TestFabric, id: string) =>
  ((await fabric.request("GET", "/v1/clusters")).json.clusters as Array<{ id: string; phase: string }>).find((c) => c.id === id)?.phase

removal("a cluster with another one Active is removed (202); the last Active one is refused with 409 and stays Active", async ({ fabric }) => {
  const first = await fabric.request("DELETE", "/v1/clusters/sim-b")
  assert.is(first.status, 202, first.text)
  assert.is(first.json.cluster.phase, "Removed")

  const last = await fabric.request("DELETE", "/v1/clusters/sim-a")
  assert.is(last.status, 409, last.text)
  assert.is(last.json.error.code, "conflict")
  assert.match(last.json.error.message, /sim-a is the last Active cluster/)
  assert.match(last.json.error.message, /force=true/)
  assert.is(await phaseOf(fabric, "sim-a"), "Active")
  // force=false is the same as no force
  assert.is((await fabric.request("DELETE", "/v1/clusters/sim-a?force=false")).status, 409)
})

removal("force must be true or false (400, named by its path)", async ({ fabric }) => {
  const r = await fabric.request("DELETE", "/v1/clusters/sim-a?force=yes")
  assert.is(r.status, 400, r.text)
  assert.equal(r.json.error.issues.map((i: { path: string }) => i.path), ["query.force"])
  assert.is(await phaseOf(fabric, "sim-a"), "Active")
})

removal("?force=true removes the last Active cluster; removing it again answers 202 and changes nothing", async ({ fabric }) => {
  const forced = await fabric.request("DELETE", "/v1/clusters/sim-a?force=true")
  assert.is(forced.status, 202, forced.text)
  assert.is(forced.json.cluster.phase, "Removed")
  const again = await fabric.request("DELETE", "/v1/clusters/sim-a")
  assert.is(again.status, 202, again.text)
  assert.is(again.json.cluster.phase, "Removed")
})

removal("an unknown cluster is 404", async ({ fabric }) => {
  const r = await fabric.request("DELETE", "/v1/clusters/no-such-cluster?force=true")
  assert.is(r.status, 404, r.text)
  assert.is(r.json.error.code, "not_found")
})

removal.run()
