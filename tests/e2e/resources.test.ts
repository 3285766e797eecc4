// A resource's life across simulated clusters that serve the catalogue, sim-c without KupoPort
// (the embedded twin of tests/e2e/real/resources.real.test.ts): Ready where the kind is served and
// Unavailable, not holding it back, where it is not; the kind installed later; a merge patch bumping
// the object's generation in every cluster; conditions, drift and a foreign object; a project's
// deletion removing its resources, then its namespace; a restart mid-way and an unreachable cluster.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import type { Project, Resource } from "../../rpc/client.ts"
import { isObjectOf } from "../../src/services/cluster.ts"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"
import { waitFor } from "../support/wait-for.ts"

interface Ctx { fabric: TestFabric; dataDir: string | undefined }
const life = suite<Ctx>("a resource's life across clusters")

const clusters = { "sim-a": {}, "sim-b": {}, "sim-c": { unservedKinds: ["KupoPort"] } }

life.before.each(async (ctx) => {
  ctx.dataDir = process.env.FABRIC_TEST_ENGINES === "real" ? undefined : mkdtempSync(join(tmpdir(), "fabric-resources-"))
  ctx.fabric = await startFabric({ dataDir: ctx.dataDir, clusters })
})
life.after.each(async (ctx) => {
  await ctx.fabric.stop()
  if (ctx.dataDir) rmSync(ctx.dataDir, { recursive: true, force: true })
})

const kupo = { network: "preprod", pruneUtxo: true }
let accounts = 0

const readyProject = async (fabric: TestFabric): Promise<Project> => {
  const { project } = (await (await fabric.client.v1.accounts.$post({ json: { name: `Ports ${++accounts}`, email: `ports${accounts}@example.test` } })).json()) as { project: Project }
  return fabric.waitForProject(project.id, (p) => p.phase === "Ready")
}

const create = async (fabric: TestFabric, project: Project, json: { kind: string; name?: string; spec: Record<string, unknown> }): Promise<Resource> => {
  const r = await fabric.client.v1.projects[":projectId"].resources.$post({ param: { projectId: project.id }, json })
  assert.is(r.status, 201, await r.clone().text())
  return ((await r.json()) as { resource: Resource }).resource
}

let last: Resource | undefined
const resourceWhere = async (fabric: TestFabric, r: Resource, done: (x: Resource) => boolean, timeoutMs = 30_000): Promise<Resource> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const response = await fabric.client.v1.projects[":projectId"].resources[":resourceId"].$get({ param: { projectId: r.projectId, resourceId: r.id } })
    last = response.status === 200 ? ((await response.json()) as { resource: Resource }).resource : undefined
    if (last && done(last)) return last
    await new Promise((res) => setTimeout(res, 25))
  }
  throw new Error(`resource ${r.id} did not reach the expected state; last seen: ${JSON.stringify(last)}`)
}

const phases = (r: Resource) => Object.fromEntries(Object.entries(r.clusters).map(([id, c]) => [id, c.phase]))
const object = (fabric: TestFabric, cluster: string, project: Project, r: Resource) => fabric.states.get(cluster)!.lookupObject(r.kind, project.namespace, r.name)

life("Ready in the clusters that serve the kind, Unavailable (not holding it back) in the one that does not; the kind installed there later makes it Ready there too", async (ctx) => {
  const project = await readyProject(ctx.fabric)
  const resource = await create(ctx.fabric, project, { kind: "KupoPort", spec: kupo })
  const ready = await resourceWhere(ctx.fabric, resource, (r) => r.phase === "Ready" && r.clusters["sim-c"]?.phase === "Unavailable")
  assert.equal(phases(ready), { "sim-a": "Ready", "sim-b": "Ready", "sim-c": "Unavailable" })
  assert.match(ready.clusters["sim-c"]!.reason ?? "", /does not serve demeter\.run\/v1alpha1 KupoPort/)
  for (const cluster of ["sim-a", "sim-b"]) {
    const o = object(ctx.fabric, cluster, project, resource)!
    assert.ok(o, `${cluster} holds the object`)
    assert.equal(o.spec, kupo)
    assert.ok(isObjectOf(o.labels, { projectId: project.id, resourceId: resource.id }))
    assert.is(o.annotations["fabric.demeter.run/generation"], "1")
  }
  assert.is(object(ctx.fabric, "sim-c", project, resource), undefined)
  // Another kind, served everywhere: Ready in all three.
  const node = await create(ctx.fabric, project, { kind: "CardanoNodePort", spec: { network: "preprod", version: "10.1.4" } })
  assert.equal(phases(await resourceWhere(ctx.fabric, node, (r) => r.phase === "Ready")), { "sim-a": "Ready", "sim-b": "Ready", "sim-c": "Ready" })

  // Discovery is reported to the central state with the heartbeats: GET /v1/kinds says who serves what.
  const servedBy = async () => Object.fromEntries((await (await ctx.fabric.client.v1.kinds.$get()).json()).kinds.map((k) => [k.kind, [...k.clusters].sort()]))
  assert.equal(await waitFor("kinds reported", async () => {
    const served = await servedBy()
    return served.KupoPort?.length === 2 && served.CardanoNodePort?.length === 3 ? served : undefined
  }, 10_000, 50), { CardanoNodePort: ["sim-a", "sim-b", "sim-c"], KupoPort: ["sim-a", "sim-b"] })

  ctx.fabric.states.get("sim-c")!.unservedKinds.delete("KupoPort")
  const everywhere = await resourceWhere(ctx.fabric, resource, (r) => r.clusters["sim-c"]?.phase === "Ready")
  await waitFor("sim-c reported serving KupoPort", async () => ((await servedBy()).KupoPort?.includes("sim-c") ? true : undefined), 10_000, 50)
  const { clusters } = await (await ctx.fabric.client.v1.clusters.$get()).json()
  assert.equal(clusters.find((c) => c.id === "sim-c")?.kinds, ["CardanoNodePort", "KupoPort"])
  assert.is(everywhere.phase, "Ready")
  assert.is(everywhere.clusters["sim-c"]!.reason, undefined, "installing the kind is no repair")
  assert.equal(object(ctx.fabric, "sim-c", project, resource)?.spec, kupo)
})

life("a merge patch changes the object in every cluster, its generation bumped; conditions an operator writes are reported", async (ctx) => {
  const project = await readyProject(ctx.fabric)
  const resource = await create(ctx.fabric, project, { kind: "KupoPort", spec: { ...kupo, throughputTier: 1, matchPatterns: ["addr_test1*"] } })
  await resourceWhere(ctx.fabric, resource, (r) => r.phase === "Ready")
  const patched = await ctx.fabric.client.v1.projects[":projectId"].resources[":resourceId"].$patch({
    param: { projectId: project.id, resourceId: resource.id }, json: { spec: { throughputTier: 3, matchPatterns: null } },
  })
  assert.is(patched.status, 200)
  const ready = await resourceWhere(ctx.fabric, resource, (r) => r.generation === 2 && r.phase === "Ready")
  assert.equal(ready.spec, { ...kupo, throughputTier: 3 }, "RFC 7386: null removed matchPatterns")
  for (const cluster of ["sim-a", "sim-b"]) {
    const o = object(ctx.fabric, cluster, project, resource)!
    assert.equal(o.spec, { ...kupo, throughputTier: 3 })
    assert.is(o.generation, 2, `${cluster}: the object's metadata.generation`)
    assert.is(o.annotations["fabric.demeter.run/generation"], "2")
    assert.is(ready.clusters[cluster]!.observedGeneration, 2)
  }
  const conditions = [{ type: "Ready", status: "True", reason: "Serving", message: "port is up" }]
  object(ctx.fabric, "sim-a", project, resource)!.conditions = conditions
  const reported = await resourceWhere(ctx.fabric, resource, (r) => r.clusters["sim-a"]?.conditions !== undefined && r.clusters["sim-a"].conditions.length > 0)
  assert.equal(reported.clusters["sim-a"]!.conditions, conditions)
})

life("drift: an object deleted or changed by hand is applied again and the repair reported, also across a restart; a foreign object is Conflict and untouched", async (ctx) => {
  const project = await readyProject(ctx.fabric)
  const resource = await create(ctx.fabric, project, { kind: "CardanoNodePort", name: "relay", spec: { network: "mainnet", version: "10.1" } })
  await resourceWhere(ctx.fabric, resource, (r) => r.phase === "Ready")
  const simB = ctx.fabric.states.get("sim-b")!
  const before = object(ctx.fabric, "sim-b", project, resource)!.uid
  simB.deleteObject("CardanoNodePort", project.namespace, "relay")
  const repaired = await resourceWhere(ctx.fabric, resource, (r) => /repaired: the object was missing/.test(r.clusters["sim-b"]?.reason ?? ""))
  assert.is(repaired.clusters["sim-b"]!.phase, "Ready")
  assert.is.not(object(ctx.fabric, "sim-b", project, resource)!.uid, before)

  // Changed by hand while Fabric is down: the restarted daemon applies Fabric's spec again.
  ctx.fabric = await ctx.fabric.restart({}, () => {
    simB.lookupObject("CardanoNodePort", project.namespace, "relay")!.spec = { network: "preview", version: "9.0" }
  })
  await resourceWhere(ctx.fabric, resource, (r) => /repaired: the object had been changed by hand/.test(r.clusters["sim-b"]?.reason ?? ""))
  assert.equal(object(ctx.fabric, "sim-b", project, resource)!.spec, { network: "mainnet", version: "10.1" })

  // Someone else's object with a new resource's name, in sim-a: never adopted.
  const foreign = ctx.fabric.states.get("sim-a")!.putObject({ kind: "KupoPort", namespace: project.namespace, name: "theirs", labels: { team: "other" }, annotations: {}, spec: { network: "mainnet" } })
  const clashing = await create(ctx.fabric, project, { kind: "KupoPort", name: "theirs", spec: kupo })
  const conflict = await resourceWhere(ctx.fabric, clashing, (r) => r.phase === "Degraded")
  assert.is(conflict.clusters["sim-a"]!.phase, "Failed")
  assert.match(conflict.clusters["sim-a"]!.reason ?? "", /^Conflict: KupoPort prj-.*\/theirs exists without Fabric's labels/)
  await new Promise((r) => setTimeout(r, 600)) // several drift passes
  const still = ctx.fabric.states.get("sim-a")!.lookupObject("KupoPort", project.namespace, "theirs")!
  assert.is(still.uid, foreign.uid)
  assert.equal(still.labels, { team: "other" })
  assert.equal(still.spec, { network: "mainnet" })
})

life("deleting a project removes its resources from every cluster first, then its namespace; a resource's own deletion, held, finishes across a restart and frees its quota slot", async (ctx) => {
  const project = await readyProject(ctx.fabric)
  const kept = await create(ctx.fabric, project, { kind: "KupoPort", spec: kupo })
  const own = await create(ctx.fabric, project, { kind: "CardanoNodePort", spec: { network: "preprod", version: "10.1" } })
  await resourceWhere(ctx.fabric, kept, (r) => r.phase === "Ready")
  await resourceWhere(ctx.fabric, own, (r) => r.phase === "Ready")

  // The resource's own deletion, its object held in sim-a (a finalizer): Deleting there until released.
  object(ctx.fabric, "sim-a", project, own)!.held = true
  assert.is((await ctx.fabric.client.v1.projects[":projectId"].resources[":resourceId"].$delete({ param: { projectId: project.id, resourceId: own.id } })).status, 202)
  await resourceWhere(ctx.fabric, own, (r) => r.clusters["sim-b"]?.phase === "Deleted" && r.clusters["sim-c"]?.phase === "Deleted")
  ctx.fabric = await ctx.fabric.restart()
  assert.is((await resourceWhere(ctx.fabric, own, () => true)).phase, "Deleting")
  object(ctx.fabric, "sim-a", project, own)!.held = false
  const gone = await resourceWhere(ctx.fabric, own, (r) => r.phase === "Deleted")
  assert.equal(phases(gone), { "sim-a": "Deleted", "sim-b": "Deleted", "sim-c": "Deleted" })
  const [legacy] = await ctx.fabric.sql("select status from demeter.resources where id = $1", own.id)
  assert.is(legacy.status, "deleted", "its quota slot and its name are free")

  assert.is((await ctx.fabric.client.v1.projects[":projectId"].$delete({ param: { projectId: project.id } })).status, 202)
  const deleted = await ctx.fabric.waitForProject(project.id, (p) => p.phase === "Deleted")
  assert.is(deleted.phase, "Deleted")
  const resourceGone = await resourceWhere(ctx.fabric, kept, (r) => r.phase === "Deleted")
  assert.equal(phases(resourceGone), { "sim-a": "Deleted", "sim-b": "Deleted", "sim-c": "Deleted" })
  for (const [id, state] of ctx.fabric.states) {
    assert.is(state.lookupObject("KupoPort", project.namespace, kept.name), undefined, id)
    assert.is(state.lookup(project.namespace), undefined, id)
  }
  // In every cluster the objects went before the namespace: the daemon confirmed each gone first
  // (a namespace deletion would also have taken them, without a report).
  const left = await ctx.fabric.sql("select id, phase from fabric.resources where project_id = $1 and phase <> 'Deleted'", project.id)
  assert.equal([...left], [], JSON.stringify(left))
})

life("an unreachable apiserver deletes nothing and holds only itself back; it catches up when it answers again", async (ctx) => {
  const project = await readyProject(ctx.fabric)
  const first = await create(ctx.fabric, project, { kind: "CardanoNodePort", spec: { network: "mainnet", version: "10.1" } })
  await resourceWhere(ctx.fabric, first, (r) => r.phase === "Ready")
  const simA = ctx.fabric.states.get("sim-a")!
  simA.failing = true
  const during = await create(ctx.fabric, project, { kind: "CardanoNodePort", spec: { network: "preview", version: "10.1" } })
  // Degraded as soon as sim-a's failure is in; the other two report in their own time.
  const degraded = await resourceWhere(ctx.fabric, during, (r) => r.phase === "Degraded" && r.clusters["sim-b"]?.phase === "Ready" && r.clusters["sim-c"]?.phase === "Ready")
  assert.is(degraded.clusters["sim-a"]!.phase, "Failed")
  assert.equal([degraded.clusters["sim-b"]!.phase, degraded.clusters["sim-c"]!.phase], ["Ready", "Ready"])
  await new Promise((r) => setTimeout(r, 1_000)) // several drift passes while sim-a is down
  assert.ok(simA.lookupObject("CardanoNodePort", project.namespace, first.name), "nothing deleted in sim-a")
  ctx.fabric = await ctx.fabric.restart()
  simA.failing = false
  const healed = await resourceWhere(ctx.fabric, during, (r) => r.phase === "Ready" && r.clusters["sim-a"]?.phase === "Ready", 60_000)
  assert.is(healed.clusters["sim-a"]!.observedGeneration, 1)
  assert.ok(object(ctx.fabric, "sim-a", project, during))
})

life.run()
