// A project's life across real kube-apiservers that come and go: `fabric rpc` and one `fabric
// daemon` per apiserver as separate processes on Postgres and Kafka. The suite starts its own
// apiservers (x, y, z, and w mid-test) with deploy/infra/infra.sh, so stopping one never disturbs
// the suites that run beside it on a, b and c. Every case also kills a process in the middle of
// the change (SIGKILL) and restarts it.
import postgres from "postgres"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk, fabricClient, type Project } from "../../../rpc/client.ts"
import { isOwnedBy } from "../../../src/services/cluster.ts"
import { adminHooks } from "../../contract/kubernetes-admin-hooks.ts"
import { waitFor } from "../../support/wait-for.ts"
import { fleetEngines, infra, kill, kubeconfig, requireInfraRun, restartRpc, startDaemon, type FleetProcesses } from "../../support/apiserver-fleet.ts"
import { startFabricProcess } from "../../support/fabric-process.ts"
import { requireRealEngines } from "../../support/real-engines.ts"

const token = "real-lifecycle-operator-token-0123456789"

interface Ctx extends FleetProcesses {
  admin: Map<string, ReturnType<typeof adminHooks>>
  sql: postgres.Sql
  dropDatabase: () => Promise<void>
  namespaces: Set<string>
  clustersUp: Set<string>
}

const lifecycle = suite<Ctx>("project lifecycle on real apiservers")

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))


const getProject = async (ctx: Ctx, id: string): Promise<Project> => {
  const r = await ctx.client.v1.projects[":projectId"].$get({ param: { projectId: id } })
  return (await expectOk(r)).project
}

let last: Project | undefined
const projectWhere = (ctx: Ctx, id: string, done: (p: Project) => boolean, timeoutMs?: number) =>
  waitFor(() => `project ${id} (last seen ${JSON.stringify(last)})`, async () => {
    last = await getProject(ctx, id)
    return done(last) ? last : undefined
  }, timeoutMs ?? 90_000)

const clusterUp = (ctx: Ctx, id: string) => {
  infra("cluster-up", id)
  ctx.clustersUp.add(id)
  ctx.admin.set(id, adminHooks(kubeconfig(id, "admin")))
}

const activeClusters = (ctx: Ctx, ids: string[]) =>
  waitFor(`clusters ${ids} Active`, async () => {
    const { clusters } = await (await ctx.client.v1.clusters.$get()).json()
    return ids.every((id) => clusters.some((c) => c.id === id && c.phase === "Active")) ? clusters : undefined
  })

/** Creates a project in an existing account, without waiting for it. */
const createProject = async (ctx: Ctx, accountId: string, name: string): Promise<Project> => {
  const { project } = await expectOk(ctx.client.v1.accounts[":accountId"].projects.$post({ param: { accountId }, json: { name } }))
  ctx.namespaces.add(project.namespace)
  return project
}

let accounts = 0
/** A new account with `count` projects, once every one is Ready. */
const readyProjects = async (ctx: Ctx, count: number): Promise<Project[]> => {
  accounts++
  const created = await expectOk(ctx.client.v1.accounts.$post({ json: { name: `Life ${accounts}`, email: `life${accounts}@real.test` } }))
  ctx.namespaces.add(created.project.namespace)
  const projects = [created.project]
  for (let i = 1; i < count; i++) projects.push(await createProject(ctx, created.account.id, `service ${i}`))
  return Promise.all(projects.map((p) => projectWhere(ctx, p.id, (q) => q.phase === "Ready")))
}

const namespaceIn = (ctx: Ctx, cluster: string, name: string) => ctx.admin.get(cluster)!.core.readNamespace({ name }).catch(() => undefined)

lifecycle.before(async (ctx) => {
  requireRealEngines()
  requireInfraRun()
  ctx.admin = new Map()
  ctx.clustersUp = new Set()
  ctx.namespaces = new Set()
  ctx.daemons = new Map()
  for (const id of ["x", "y", "z"]) clusterUp(ctx, id)
  const engines = await fleetEngines(token)
  Object.assign(ctx, { env: engines.env, sql: engines.sql, dropDatabase: engines.drop })
  ctx.rpc = await startFabricProcess(ctx.env, 60_000, ["rpc"])
  ctx.client = fabricClient(ctx.rpc.url, token)
  for (const id of ["x", "y", "z"]) await startDaemon(ctx, id)
  await activeClusters(ctx, ["x", "y", "z"])
})

lifecycle.after(async (ctx) => {
  for (const d of ctx.daemons?.values() ?? []) await d.stop()
  await ctx.rpc?.stop()
  for (const id of ctx.clustersUp ?? []) {
    const admin = ctx.admin.get(id)!
    for (const name of ctx.namespaces) {
      await admin.releaseDeletion(name).catch(() => undefined)
      await admin.deleteNamespaceOutOfBand(name).catch(() => undefined)
    }
    infra("cluster-down", id)
  }
  await ctx.sql?.end()
  await ctx.dropDatabase?.()
})

lifecycle("deletion across three apiservers, rpc killed mid-deletion: every namespace really gone, legacy row deleted", async (ctx) => {
  const [project] = await readyProjects(ctx, 1)
  await ctx.admin.get("y")!.holdDeletion(project!.namespace) // y stays Terminating until released
  const r = await ctx.client.v1.projects[":projectId"].$delete({ param: { projectId: project!.id } })
  assert.is(r.status, 202)
  await projectWhere(ctx, project!.id, (p) => p.clusters.x!.phase === "Deleted" && p.clusters.z!.phase === "Deleted")
  assert.is((await getProject(ctx, project!.id)).clusters.y!.phase, "Deleting")
  assert.is((await ctx.admin.get("y")!.inspectNamespace(project!.namespace))?.terminating, true)

  await restartRpc(ctx, token)
  await ctx.admin.get("y")!.releaseDeletion(project!.namespace)
  const gone = await projectWhere(ctx, project!.id, (p) => p.phase === "Deleted")
  assert.equal(Object.values(gone.clusters).map((c) => c.phase), ["Deleted", "Deleted", "Deleted"])
  for (const id of ["x", "y", "z"]) assert.is(await namespaceIn(ctx, id, project!.namespace), undefined, `${id} still has it`)
  const [legacy] = await ctx.sql`select status from demeter.projects where id = ${project!.id}`
  assert.is(legacy!.status, "deleted")
})

lifecycle("a namespace deleted by hand is created again, the daemon killed in between", async (ctx) => {
  const [project] = await readyProjects(ctx, 1)
  const before = await namespaceIn(ctx, "x", project!.namespace)
  await ctx.admin.get("x")!.deleteNamespaceOutOfBand(project!.namespace)
  await kill(ctx.daemons.get("x")!)
  await waitFor("the namespace gone from x", async () => (await namespaceIn(ctx, "x", project!.namespace)) === undefined ? true : undefined)
  await startDaemon(ctx, "x")
  const repaired = await projectWhere(ctx, project!.id, (p) => /repaired/.test(p.clusters.x!.reason ?? ""))
  assert.is(repaired.clusters.x!.phase, "Ready")
  const again = await namespaceIn(ctx, "x", project!.namespace)
  assert.ok(again, "recreated")
  assert.is.not(again!.metadata?.uid, before!.metadata?.uid)
  assert.ok(isOwnedBy(again!.metadata?.labels, project!.id))
})

lifecycle("a foreign namespace with the project's name yields Conflict and stays untouched; its removal heals the project", async (ctx) => {
  const [project] = await readyProjects(ctx, 1)
  // Behind Fabric's back (its daemon for z is down): ours is deleted, someone else takes the name.
  await ctx.daemons.get("z")!.stop()
  await ctx.admin.get("z")!.deleteNamespaceOutOfBand(project!.namespace)
  await waitFor("the namespace gone from z", async () => (await namespaceIn(ctx, "z", project!.namespace)) === undefined ? true : undefined)
  await ctx.admin.get("z")!.createForeignNamespace(project!.namespace, { team: "someone-else" })
  const foreign = await namespaceIn(ctx, "z", project!.namespace)
  await startDaemon(ctx, "z")
  const conflict = await projectWhere(ctx, project!.id, (p) => p.phase === "Degraded")
  assert.is(conflict.clusters.z!.phase, "Failed")
  assert.match(conflict.clusters.z!.reason ?? "", /^Conflict/)

  await kill(ctx.daemons.get("z")!)
  await startDaemon(ctx, "z")
  await sleep(3_000) // several drift checks
  const still = await namespaceIn(ctx, "z", project!.namespace)
  assert.is(still!.metadata?.uid, foreign!.metadata?.uid)
  assert.equal(still!.metadata?.labels, { ...foreign!.metadata?.labels })
  assert.is((await getProject(ctx, project!.id)).phase, "Degraded")

  await ctx.admin.get("z")!.deleteNamespaceOutOfBand(project!.namespace)
  const healed = await projectWhere(ctx, project!.id, (p) => p.phase === "Ready")
  assert.is(healed.clusters.z!.phase, "Ready")
  assert.ok(isOwnedBy((await namespaceIn(ctx, "z", project!.namespace))!.metadata?.labels, project!.id))
})

lifecycle("an apiserver stopped mid-test causes no deletion anywhere; after it returns everything is Ready", async (ctx) => {
  const projects = await readyProjects(ctx, 3)
  infra("cluster-down", "y")
  const during = await createProject(ctx, projects[0]!.accountId, "during outage")
  const degraded = await projectWhere(ctx, during.id, (p) => p.phase === "Degraded")
  assert.is(degraded.clusters.y!.phase, "Failed")
  await restartRpc(ctx, token)
  await kill(ctx.daemons.get("y")!)
  await startDaemon(ctx, "y")
  await sleep(4_000) // drift checks run in every cluster while y is down
  for (const id of ["x", "z"]) {
    for (const p of [...projects, during]) assert.ok(await namespaceIn(ctx, id, p.namespace), `${p.namespace} gone from ${id}`)
  }
  clusterUp(ctx, "y")
  const healed = await projectWhere(ctx, during.id, (p) => p.phase === "Ready")
  assert.is(healed.clusters.y!.phase, "Ready")
  for (const p of projects) {
    assert.is((await getProject(ctx, p.id)).phase, "Ready")
    assert.ok(await namespaceIn(ctx, "y", p.namespace), `${p.namespace} gone from y`)
  }
})

lifecycle("a fourth apiserver started mid-test joins and backfills every live project, its daemon killed mid-backfill", async (ctx) => {
  const projects = await readyProjects(ctx, 6)
  clusterUp(ctx, "w")
  await startDaemon(ctx, "w")
  await projectWhere(ctx, projects[0]!.id, (p) => p.clusters.w !== undefined)
  await kill(ctx.daemons.get("w")!)
  await startDaemon(ctx, "w")
  for (const p of projects) {
    const ready = await projectWhere(ctx, p.id, (q) => q.phase === "Ready" && q.clusters.w?.phase === "Ready")
    assert.equal(Object.keys(ready.clusters).sort(), ["w", "x", "y", "z"])
    const list = await ctx.admin.get("w")!.core.listNamespace({ labelSelector: `fabric.demeter.run/project=${p.id}` })
    assert.is(list.items.length, 1)
  }
})

lifecycle("a cluster removed mid-deletion is let go with the reason recorded; new projects do not wait for it", async (ctx) => {
  const [project] = await readyProjects(ctx, 1)
  await ctx.admin.get("z")!.holdDeletion(project!.namespace)
  await ctx.client.v1.projects[":projectId"].$delete({ param: { projectId: project!.id } })
  await projectWhere(ctx, project!.id, (p) => ["w", "x", "y"].every((id) => p.clusters[id]!.phase === "Deleted"))
  await restartRpc(ctx, token)
  const removed = await ctx.client.v1.clusters[":clusterId"].$delete({ param: { clusterId: "z" }, query: {} })
  assert.is(removed.status, 202)
  const gone = await projectWhere(ctx, project!.id, (p) => p.phase === "Deleted")
  assert.match(gone.clusters.z!.reason ?? "", /removed by the operator/)
  // Let go is not deleted: the namespace is still there (Terminating, held).
  assert.ok(await namespaceIn(ctx, "z", project!.namespace))
  await ctx.admin.get("z")!.releaseDeletion(project!.namespace)

  const [later] = await readyProjects(ctx, 1)
  assert.equal(Object.keys(later!.clusters).sort(), ["w", "x", "y"])
})

lifecycle.run()
