// A project's whole life across clusters that come and go (issue: deletion, join and backfill,
// drift repair), end to end through HTTP on the embedded layers. Each case also restarts the
// process in the middle of the change and checks that the outcome is the same.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk } from "../../rpc/client.ts"
import { isOwnedBy } from "../../src/services/cluster.ts"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"
import { clusterPhaseOf, createProject, deleteProject } from "../support/typed-api.ts"
import { waitFor } from "../support/wait-for.ts"

interface Ctx { fabric: TestFabric; dataDir: string | undefined }

const lifecycle = suite<Ctx>("project lifecycle across clusters")

// Real engines keep their own data (one database, one Kafka prefix); PGlite needs a directory
// for its data to outlive a restart.
lifecycle.before.each(async (ctx) => {
  ctx.dataDir = process.env.FABRIC_TEST_ENGINES === "real" ? undefined : mkdtempSync(join(tmpdir(), "fabric-lifecycle-"))
  ctx.fabric = await startFabric({ dataDir: ctx.dataDir })
})
lifecycle.after.each(async (ctx) => {
  await ctx.fabric.stop()
  if (ctx.dataDir) rmSync(ctx.dataDir, { recursive: true, force: true })
})

let accounts = 0
const readyProjects = async (fabric: TestFabric, count: number) => {
  const acc = await expectOk(fabric.client.v1.accounts.$post({ json: { name: `Life ${++accounts}`, email: `life${accounts}@example.test` } }))
  const ids = [acc.project.id]
  for (let i = 1; i < count; i++) ids.push((await createProject(fabric.client, acc.account.id, `service ${i}`)).id)
  return Promise.all(ids.map((id) => fabric.waitForProject(id, (p) => p.phase === "Ready")))
}

const clusterPhases = (p: { clusters: Record<string, { phase: string }> }) =>
  Object.fromEntries(Object.entries(p.clusters).map(([id, c]) => [id, c.phase]))

const namespaceNames = (fabric: TestFabric) =>
  Object.fromEntries([...fabric.states].map(([id, state]) => [id, state.list().map((ns) => ns.name)]))

lifecycle("deletion across three clusters, restarted mid-deletion: every namespace gone, project Deleted, legacy row deleted", async (ctx) => {
  const [project] = await readyProjects(ctx.fabric, 1)
  // sim-b's namespace stays Terminating until released (contents with a finalizer).
  ctx.fabric.states.get("sim-b")!.hold(project!.namespace)
  assert.is((await deleteProject(ctx.fabric.client, project!.id)).phase, "Deleting")
  const partly = await ctx.fabric.waitForProject(project!.id, (p) => p.clusters["sim-a"]!.phase === "Deleted" && p.clusters["sim-c"]!.phase === "Deleted")
  assert.is(partly.phase, "Deleting")
  assert.is(partly.clusters["sim-b"]!.phase, "Deleting")

  ctx.fabric = await ctx.fabric.restart()
  ctx.fabric.states.get("sim-b")!.release(project!.namespace)
  const gone = await ctx.fabric.waitForProject(project!.id, (p) => p.phase === "Deleted")
  assert.equal(clusterPhases(gone), { "sim-a": "Deleted", "sim-b": "Deleted", "sim-c": "Deleted" })
  for (const state of ctx.fabric.states.values()) assert.is(state.lookup(project!.namespace), undefined)
  const legacy = await ctx.fabric.sql("select status from demeter.projects where id = $1", project!.id)
  assert.is(legacy[0].status, "deleted")
})

lifecycle("a cluster removed mid-deletion is let go with the reason recorded; the others finish", async (ctx) => {
  const [project] = await readyProjects(ctx.fabric, 1)
  ctx.fabric.states.get("sim-c")!.hold(project!.namespace)
  await deleteProject(ctx.fabric.client, project!.id)
  await ctx.fabric.waitForProject(project!.id, (p) => p.clusters["sim-a"]!.phase === "Deleted" && p.clusters["sim-b"]!.phase === "Deleted")

  await expectOk(ctx.fabric.client.v1.clusters[":clusterId"].$delete({ param: { clusterId: "sim-c" }, query: {} }))
  const gone = await ctx.fabric.waitForProject(project!.id, (p) => p.phase === "Deleted")
  assert.is(gone.clusters["sim-c"]!.phase, "Deleted")
  assert.match(gone.clusters["sim-c"]!.reason ?? "", /removed by the operator/)
  // Let go means Fabric stopped waiting, not that the namespace vanished: it is still there.
  assert.ok(ctx.fabric.states.get("sim-c")!.lookup(project!.namespace))
  assert.is(await clusterPhaseOf(ctx.fabric.client, "sim-c"), "Removed")

  // After a restart the removed cluster stays removed and new projects do not wait for it.
  ctx.fabric = await ctx.fabric.restart({ clusters: { "sim-a": {}, "sim-b": {} } })
  const [later] = await readyProjects(ctx.fabric, 1)
  assert.equal(Object.keys(later!.clusters).sort(), ["sim-a", "sim-b"])
})

lifecycle("a cluster that joins later backfills every live project, and is a member of new ones", async (ctx) => {
  const projects = await readyProjects(ctx.fabric, 5)
  const [deleted, ...live] = projects
  await deleteProject(ctx.fabric.client, deleted!.id)
  await ctx.fabric.waitForProject(deleted!.id, (p) => p.phase === "Deleted")

  const joined = ctx.fabric.addCluster("sim-d")
  for (const p of live) {
    const ready = await ctx.fabric.waitForProject(p.id, (q) => q.clusters["sim-d"]?.phase === "Ready" && q.phase === "Ready")
    assert.is(ready.clusters["sim-d"]!.observedGeneration, 1)
    const ns = joined.lookup(p.namespace)
    assert.ok(ns, `sim-d lacks ${p.namespace}`)
    assert.ok(isOwnedBy(ns!.labels, p.id))
  }
  // The deleted project is not created in the new cluster.
  assert.equal(joined.list().map((ns) => ns.name).sort(), live.map((p) => p.namespace).sort())
  const [fresh] = await readyProjects(ctx.fabric, 1)
  assert.equal(Object.keys(fresh!.clusters).sort(), ["sim-a", "sim-b", "sim-c", "sim-d"])
})

const active = (fabric: TestFabric, id: string) =>
  waitFor(`${id} Active`, async () => ((await clusterPhaseOf(fabric.client, id)) === "Active" ? true : undefined), 30_000, 50)

lifecycle("a removed cluster whose daemon starts again is a member again: its projects count it and it reports Ready", async (ctx) => {
  ctx.fabric.addCluster("sim-g")
  await active(ctx.fabric, "sim-g")
  const projects = await readyProjects(ctx.fabric, 3)
  for (const p of projects) await ctx.fabric.waitForProject(p.id, (q) => q.clusters["sim-g"]?.phase === "Ready")
  assert.is((await ctx.fabric.client.v1.clusters[":clusterId"].$delete({ param: { clusterId: "sim-g" }, query: {} })).status, 202)
  for (const p of projects) assert.equal(Object.keys((await ctx.fabric.waitForProject(p.id, (q) => q.clusters["sim-g"] === undefined)).clusters).sort(), ["sim-a", "sim-b", "sim-c"])

  // Its daemon has handled everything already (committed offsets): only its resync at start
  // tells management that the namespaces are in place.
  await ctx.fabric.stopCluster("sim-g")
  ctx.fabric.addCluster("sim-g")
  for (const p of projects) {
    const ready = await ctx.fabric.waitForProject(p.id, (q) => q.phase === "Ready" && q.clusters["sim-g"]?.phase === "Ready")
    assert.equal(Object.keys(ready.clusters).sort(), ["sim-a", "sim-b", "sim-c", "sim-g"])
  }
})

lifecycle("restarting with one more cluster id is a join: it backfills across the restart", async (ctx) => {
  const projects = await readyProjects(ctx.fabric, 3)
  ctx.fabric = await ctx.fabric.restart({ clusters: { "sim-a": {}, "sim-b": {}, "sim-c": {}, "sim-e": {} } })
  for (const p of projects) {
    const ready = await ctx.fabric.waitForProject(p.id, (q) => q.clusters["sim-e"]?.phase === "Ready" && q.phase === "Ready")
    assert.equal(Object.keys(ready.clusters).sort(), ["sim-a", "sim-b", "sim-c", "sim-e"])
  }
  assert.is(ctx.fabric.states.get("sim-e")!.list().length, 3)
})

lifecycle("a namespace deleted by hand is created again and the repair reported, also across a restart", async (ctx) => {
  const [first, second] = await readyProjects(ctx.fabric, 2)
  const simB = ctx.fabric.states.get("sim-b")!
  const uid = simB.lookup(first!.namespace)!.uid
  simB.delete(first!.namespace)
  const repaired = await ctx.fabric.waitForProject(first!.id, (p) => /repaired/.test(p.clusters["sim-b"]!.reason ?? ""))
  assert.is(repaired.clusters["sim-b"]!.phase, "Ready")
  const again = simB.lookup(first!.namespace)
  assert.ok(again && again.uid !== uid, "a new namespace stands where the deleted one was")
  assert.ok(isOwnedBy(again!.labels, first!.id))

  // Deleted by hand while Fabric is down: the restarted daemon rebuilds its desired state from
  // the compacted topic and repairs it.
  const secondUid = simB.lookup(second!.namespace)!.uid
  ctx.fabric = await ctx.fabric.restart({}, () => {
    simB.delete(second!.namespace)
    assert.is(simB.lookup(second!.namespace, Date.now() + 1_000), undefined)
  })
  await ctx.fabric.waitForProject(second!.id, (p) => /repaired/.test(p.clusters["sim-b"]!.reason ?? ""))
  assert.is.not(simB.lookup(second!.namespace)?.uid, secondUid)
  assert.ok(isOwnedBy(simB.lookup(second!.namespace)!.labels, second!.id))
})

lifecycle("an unreachable apiserver causes no deletion anywhere; the cluster recovers on its own", async (ctx) => {
  const projects = await readyProjects(ctx.fabric, 3)
  const before = namespaceNames(ctx.fabric)
  const simA = ctx.fabric.states.get("sim-a")!
  simA.failing = true
  // A change while sim-a is down: it reports Failed, the project is Degraded, nothing is deleted.
  const extra = await createProject(ctx.fabric.client, projects[0]!.accountId, "during outage")
  const degraded = await ctx.fabric.waitForProject(extra.id, (p) => p.phase === "Degraded")
  assert.is(degraded.clusters["sim-a"]!.phase, "Failed")
  await new Promise((r) => setTimeout(r, 1_000)) // several drift intervals (200 ms each) pass
  assert.equal(namespaceNames(ctx.fabric), { ...before, "sim-b": [...before["sim-b"]!, extra.namespace].sort(), "sim-c": [...before["sim-c"]!, extra.namespace].sort() })

  ctx.fabric = await ctx.fabric.restart() // restarted while sim-a is still down
  await new Promise((r) => setTimeout(r, 500))
  for (const [id, names] of Object.entries(before)) for (const name of names) assert.ok(ctx.fabric.states.get(id)!.lookup(name), `${name} gone from ${id}`)

  simA.failing = false
  // Waits for sim-a itself: on a loaded machine a restarted cluster can count as Unreachable for a
  // moment, and Ready alone does not wait for an Unreachable cluster.
  const recovered = await ctx.fabric.waitForProject(extra.id, (p) => p.phase === "Ready" && p.clusters["sim-a"]?.phase === "Ready", undefined, 60_000)
  assert.is(recovered.clusters["sim-a"]!.phase, "Ready")
  for (const p of projects) assert.is((await ctx.fabric.waitForProject(p.id, (q) => q.phase === "Ready")).phase, "Ready")
})

lifecycle("a foreign namespace with the project's name yields Conflict and stays untouched, across a restart", async (ctx) => {
  const [project] = await readyProjects(ctx.fabric, 1)
  const simC = ctx.fabric.states.get("sim-c")!
  // Someone else force-removes ours and takes the name at once (no drift check in between).
  simC.namespaces.delete(project!.namespace)
  const foreign = simC.create(project!.namespace, { labels: { team: "someone-else" } })
  const conflict = await ctx.fabric.waitForProject(project!.id, (p) => p.phase === "Degraded")
  assert.is(conflict.clusters["sim-c"]!.phase, "Failed")
  assert.match(conflict.clusters["sim-c"]!.reason ?? "", /^Conflict/)

  ctx.fabric = await ctx.fabric.restart()
  await new Promise((r) => setTimeout(r, 600))
  const still = simC.lookup(project!.namespace)!
  assert.is(still.uid, foreign.uid)
  assert.equal(still.labels, { team: "someone-else" })
  // Still a Conflict after the restart (waited for: a restarted cluster can count as Unreachable
  // for a moment on a loaded machine, and then the project does not wait for it).
  const after = await ctx.fabric.waitForProject(project!.id, (p) => p.phase === "Degraded", undefined, 60_000)
  assert.match(after.clusters["sim-c"]!.reason ?? "", /^Conflict/)

  // The owner removes the foreign namespace: Fabric creates its own and the project recovers.
  simC.delete(project!.namespace)
  const recovered = await ctx.fabric.waitForProject(project!.id, (p) => p.phase === "Ready" && p.clusters["sim-c"]?.phase === "Ready", undefined, 60_000)
  assert.is(recovered.clusters["sim-c"]!.phase, "Ready")
  assert.ok(isOwnedBy(simC.lookup(project!.namespace)!.labels, project!.id))
})

lifecycle("a namespace the apiserver refuses does not hold up the projects behind it; creation and deletion recover when the refusal is lifted", async (ctx) => {
  await ctx.fabric.stop()
  // One partition: every project is behind every other in each daemon's queue.
  ctx.fabric = await startFabric({ dataDir: ctx.dataDir, env: { FABRIC_PARTITIONS: "1" } })
  const [first] = await readyProjects(ctx.fabric, 1)
  const simB = ctx.fabric.states.get("sim-b")!
  simB.refusing.set("prj-refused-", "admission webhook denied the request")
  const refused = await createProject(ctx.fabric.client, first!.accountId, "refused")
  const after = await createProject(ctx.fabric.client, first!.accountId, "after")
  const degraded = await ctx.fabric.waitForProject(refused.id, (p) => p.phase === "Degraded")
  assert.match(degraded.clusters["sim-b"]!.reason ?? "", /admission webhook denied the request \(refused/)
  const behind = await ctx.fabric.waitForProject(after.id, (p) => p.phase === "Ready")
  assert.is(behind.clusters["sim-b"]!.phase, "Ready")

  simB.refusing.clear()
  const healed = await ctx.fabric.waitForProject(refused.id, (p) => p.phase === "Ready")
  assert.is(healed.clusters["sim-b"]!.phase, "Ready")
  assert.ok(isOwnedBy(simB.lookup(refused.namespace)!.labels, refused.id))

  // Deletion refused in sim-b: the project waits there, a deletion behind it finishes.
  simB.refusing.set("prj-refused-", "admission webhook denied the request")
  await deleteProject(ctx.fabric.client, refused.id)
  await deleteProject(ctx.fabric.client, after.id)
  const waiting = await ctx.fabric.waitForProject(refused.id, (p) => p.clusters["sim-b"]!.phase === "Failed")
  assert.is(waiting.phase, "Deleting")
  await ctx.fabric.waitForProject(after.id, (p) => p.phase === "Deleted")
  assert.ok(simB.lookup(refused.namespace), "the refused deletion left the namespace in place")
  simB.refusing.clear()
  const gone = await ctx.fabric.waitForProject(refused.id, (p) => p.phase === "Deleted")
  assert.is(gone.clusters["sim-b"]!.phase, "Deleted")
  assert.is(simB.lookup(refused.namespace), undefined)
})

lifecycle("a deletion lets an unreachable cluster go after the deadline, with the reason recorded", async (ctx) => {
  await ctx.fabric.stop()
  ctx.fabric = await startFabric({ dataDir: ctx.dataDir, clusters: { "sim-a": {}, "sim-b": {} }, unreachableAfterMs: 5_000, env: { FABRIC_DELETION_DEADLINE_SECONDS: "2" } })
  ctx.fabric.addCluster("sim-f")
  await active(ctx.fabric, "sim-f")
  const [project] = await readyProjects(ctx.fabric, 1)
  assert.is(project!.clusters["sim-f"]!.phase, "Ready")
  await ctx.fabric.stopCluster("sim-f")
  await deleteProject(ctx.fabric.client, project!.id)
  const gone = await ctx.fabric.waitForProject(project!.id, (p) => p.phase === "Deleted", undefined, 120_000)
  assert.match(gone.clusters["sim-f"]!.reason ?? "", /unreachable for more than 2s/)
  // The namespace in the silent cluster was not touched by anyone.
  assert.ok(ctx.fabric.states.get("sim-f")!.lookup(project!.namespace))
})

lifecycle.run()
