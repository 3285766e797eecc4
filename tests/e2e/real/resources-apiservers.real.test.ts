// Resources on real kube-apiservers (issue 10, "Done when"): `fabric rpc` and one `fabric daemon`
// per apiserver as separate processes on Postgres and Kafka. The suite starts its own apiservers
// (res-x, res-y, res-z) with deploy/infra/infra.sh, the catalogue's CRDs (deploy/crds) installed
// in res-x and res-y only, and removes the CRDs (and with them every object) and its namespaces
// before stopping them, so nothing is left behind for the suites beside it on a, b and c.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { ApiextensionsV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, type V1CustomResourceDefinition } from "@kubernetes/client-node"
import postgres from "postgres"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk, fabricClient, type Project, type Resource } from "../../../rpc/client.ts"
import { isObjectOf } from "../../../src/services/cluster.ts"
import { adminHooks } from "../../contract/kubernetes-admin-hooks.ts"
import { fleetEngines, infra, kill, kubeconfig, requireInfraRun, restartRpc, startDaemon, type FleetProcesses } from "../../support/apiserver-fleet.ts"
import { startFabricProcess } from "../../support/fabric-process.ts"
import { requireRealEngines } from "../../support/real-engines.ts"
import { waitFor } from "../../support/wait-for.ts"

const token = "real-resources-operator-token-0123456789"
const repo = new URL("../../..", import.meta.url).pathname
const clusters = ["res-x", "res-y", "res-z"] as const
const crds = readdirSync(join(repo, "deploy/crds")).map((f) => JSON.parse(readFileSync(join(repo, "deploy/crds", f), "utf8")) as V1CustomResourceDefinition)

interface Admin {
  readonly hooks: ReturnType<typeof adminHooks>
  readonly objects: CustomObjectsApi
  readonly crds: ApiextensionsV1Api
}

interface Ctx extends FleetProcesses {
  admin: Map<string, Admin>
  sql: postgres.Sql
  dropDatabase: () => Promise<void>
  namespaces: Set<string>
}

const resources = suite<Ctx>("resources on real apiservers")

const adminOf = (id: string): Admin => {
  const kc = new KubeConfig()
  kc.loadFromFile(kubeconfig(id, "admin"))
  return { hooks: adminHooks(kubeconfig(id, "admin")), objects: kc.makeApiClient(CustomObjectsApi), crds: kc.makeApiClient(ApiextensionsV1Api) }
}

/** Installs the catalogue's CRDs and waits until the apiserver serves them (Established). */
const installCrds = async (admin: Admin) => {
  for (const crd of crds) {
    await admin.crds.createCustomResourceDefinition({ body: crd }).catch((e) => { if (e?.code !== 409) throw e })
    await waitFor(`${crd.metadata!.name} established`, async () => {
      const read = await admin.crds.readCustomResourceDefinition({ name: crd.metadata!.name! })
      return read.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ? true : undefined
    }, 60_000, 250)
  }
}

const removeCrds = async (admin: Admin) => {
  for (const crd of crds) await admin.crds.deleteCustomResourceDefinition({ name: crd.metadata!.name! }).catch(() => undefined)
}

let accounts = 0
const readyProject = async (ctx: Ctx): Promise<Project> => {
  accounts++
  const { project } = await expectOk(ctx.client.v1.accounts.$post({ json: { name: `Ports ${accounts}`, email: `ports${accounts}@real.test` } }))
  ctx.namespaces.add(project.namespace)
  return waitFor(`project ${project.id} Ready`, async () => {
    const { project: p } = await expectOk(ctx.client.v1.projects[":projectId"].$get({ param: { projectId: project.id } }))
    return p.phase === "Ready" ? p : undefined
  }, 90_000)
}

const create = async (ctx: Ctx, project: Project, json: { kind: string; name?: string; spec: Record<string, unknown> }) =>
  (await expectOk(ctx.client.v1.projects[":projectId"].resources.$post({ param: { projectId: project.id }, json }))).resource

let last: Resource | undefined
const resourceWhere = (ctx: Ctx, r: Resource, done: (x: Resource) => boolean, timeoutMs = 90_000) =>
  waitFor(() => `resource ${r.id} (last seen ${JSON.stringify(last)})`, async () => {
    last = (await expectOk(ctx.client.v1.projects[":projectId"].resources[":resourceId"].$get({ param: { projectId: r.projectId, resourceId: r.id } }))).resource
    return done(last) ? last : undefined
  }, timeoutMs)

const plural = (kind: string) => (kind === "KupoPort" ? "kupoports" : "cardanonodeports")

/** The object as the apiserver holds it, read with admin rights; undefined when absent. */
const objectIn = async (ctx: Ctx, cluster: string, project: Project, r: Resource) =>
  ctx.admin.get(cluster)!.objects.getNamespacedCustomObject({ group: "demeter.run", version: "v1alpha1", namespace: project.namespace, plural: plural(r.kind), name: r.name })
    .catch((e) => { if (e?.code === 404) return undefined; throw e }) as Promise<{ metadata: { uid: string; generation: number; labels: Record<string, string>; annotations: Record<string, string>; deletionTimestamp?: string }; spec: unknown } | undefined>

const mergePatchObject = (ctx: Ctx, cluster: string, project: Project, r: Resource, body: unknown) =>
  ctx.admin.get(cluster)!.objects.patchNamespacedCustomObject(
    { group: "demeter.run", version: "v1alpha1", namespace: project.namespace, plural: plural(r.kind), name: r.name, body },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  )

const phases = (r: Resource) => Object.fromEntries(Object.entries(r.clusters).map(([id, c]) => [id, c.phase]))

/** Every row a write could add or change, per table of both schemas. */
const rows = (ctx: Ctx) => ctx.sql`
  select (select count(*) from demeter.resources)::int as legacy, (select count(*) from demeter.audit_log)::int as audit,
    (select count(*) from fabric.resources)::int as resources, (select count(*) from fabric.resource_clusters)::int as statuses,
    (select count(*) from fabric.outbox)::int as outbox, (select count(*) from fabric.actor_snapshots)::int as actors,
    (select count(*) from fabric.actor_events)::int as events, (select count(*) from fabric.idempotency_keys)::int as keys,
    (select coalesce(sum(generation), 0) from fabric.resources)::int as generations`.then((r) => ({ ...r[0] }))

resources.before(async (ctx) => {
  requireRealEngines()
  requireInfraRun()
  ctx.admin = new Map()
  ctx.daemons = new Map()
  ctx.namespaces = new Set()
  for (const id of clusters) {
    infra("cluster-up", id)
    ctx.admin.set(id, adminOf(id))
  }
  // A run stopped half-way may have left the CRDs (and their objects) in res-z: it starts without them.
  await removeCrds(ctx.admin.get("res-z")!)
  for (const id of ["res-x", "res-y"]) await installCrds(ctx.admin.get(id)!)
  const engines = await fleetEngines(token)
  Object.assign(ctx, { env: engines.env, sql: engines.sql, dropDatabase: engines.drop })
  ctx.rpc = await startFabricProcess(ctx.env, 60_000, ["rpc"])
  ctx.client = fabricClient(ctx.rpc.url, token)
  for (const id of clusters) await startDaemon(ctx, id)
  await waitFor("every cluster Active", async () => {
    const { clusters: listed } = await expectOk(ctx.client.v1.clusters.$get())
    return clusters.every((id) => listed.some((c) => c.id === id && c.phase === "Active")) ? true : undefined
  })
})

resources.after(async (ctx) => {
  for (const d of ctx.daemons?.values() ?? []) await d.stop()
  await ctx.rpc?.stop()
  for (const [, admin] of ctx.admin ?? []) {
    await removeCrds(admin)
    for (const name of ctx.namespaces) await admin.hooks.deleteNamespaceOutOfBand(name).catch(() => undefined)
  }
  for (const id of clusters) infra("cluster-down", id)
  await ctx.sql?.end()
  await ctx.dropDatabase?.()
})

const kupo = { network: "preprod", pruneUtxo: true, throughputTier: 1 }

resources("Ready with the object read back from both apiservers that serve the kind; the third Unavailable, not holding it back; a bad spec is 400 with the JSON path and writes nothing", async (ctx) => {
  const project = await readyProject(ctx)
  const before = await rows(ctx)
  const bad = await ctx.client.v1.projects[":projectId"].resources.$post({ param: { projectId: project.id }, json: { kind: "KupoPort", spec: { network: "testnet", throughputTier: 9 } } })
  assert.is(bad.status, 400)
  const body = (await bad.json()) as unknown as { error: { issues: Array<{ path: string }> } }
  assert.equal(body.error.issues.map((i) => i.path), ["body.spec.pruneUtxo", "body.spec.network", "body.spec.throughputTier"])
  assert.equal(await rows(ctx), before)

  const resource = await create(ctx, project, { kind: "KupoPort", spec: kupo })
  const ready = await resourceWhere(ctx, resource, (r) => r.phase === "Ready" && r.clusters["res-z"]?.phase === "Unavailable")
  assert.equal(phases(ready), { "res-x": "Ready", "res-y": "Ready", "res-z": "Unavailable" })
  assert.match(ready.clusters["res-z"]!.reason ?? "", /does not serve demeter\.run\/v1alpha1 KupoPort/)
  // What each daemon's API discovery found is reported to the central state (with its heartbeats).
  const served = await waitFor("the kinds reported", async () => {
    const { kinds } = await expectOk(ctx.client.v1.kinds.$get())
    const kupo = kinds.find((k) => k.kind === "KupoPort")!
    return kupo.clusters.length === 2 ? [...kupo.clusters].sort() : undefined
  })
  assert.equal(served, ["res-x", "res-y"])
  for (const id of ["res-x", "res-y"]) {
    const o = (await objectIn(ctx, id, project, resource))!
    assert.ok(o, `${id} holds the object`)
    assert.equal(o.spec, kupo)
    assert.ok(isObjectOf(o.metadata.labels, { projectId: project.id, resourceId: resource.id }), JSON.stringify(o.metadata.labels))
    assert.is(o.metadata.annotations["fabric.demeter.run/generation"], "1")
    assert.is(o.metadata.generation, 1)
  }
})

resources("a merge patch changes the object in both apiservers, its generation bumped; a bad patch is 400 with the JSON path and writes nothing", async (ctx) => {
  const project = await readyProject(ctx)
  const resource = await create(ctx, project, { kind: "KupoPort", spec: { ...kupo, matchPatterns: ["addr_test1*"] } })
  await resourceWhere(ctx, resource, (r) => r.phase === "Ready")
  const before = await rows(ctx)
  const bad = await ctx.client.v1.projects[":projectId"].resources[":resourceId"].$patch({ param: { projectId: project.id, resourceId: resource.id }, json: { spec: { pruneUtxo: null, throughputTier: "fast" } } })
  assert.is(bad.status, 400)
  const body = (await bad.json()) as unknown as { error: { issues: Array<{ path: string; message: string }> } }
  assert.equal(body.error.issues.map((i) => `${i.path}: ${i.message}`), ["body.spec.throughputTier: must be an integer, not a string"])
  const removingRequired = await ctx.client.v1.projects[":projectId"].resources[":resourceId"].$patch({ param: { projectId: project.id, resourceId: resource.id }, json: { spec: { pruneUtxo: null } } })
  assert.is(removingRequired.status, 400)
  assert.equal(await rows(ctx), before)

  await expectOk(ctx.client.v1.projects[":projectId"].resources[":resourceId"].$patch({
    param: { projectId: project.id, resourceId: resource.id }, json: { spec: { throughputTier: 3, matchPatterns: null } },
  }))
  const patched = await resourceWhere(ctx, resource, (r) => r.generation === 2 && r.phase === "Ready")
  assert.equal(patched.spec, { ...kupo, throughputTier: 3 })
  for (const id of ["res-x", "res-y"]) {
    const o = (await objectIn(ctx, id, project, resource))!
    assert.equal(o.spec, { ...kupo, throughputTier: 3 }, id)
    assert.is(o.metadata.generation, 2, `${id}: metadata.generation`)
    assert.is(o.metadata.annotations["fabric.demeter.run/generation"], "2")
    assert.is(patched.clusters[id]!.observedGeneration, 2)
  }
})

resources("installing the CRD in the third apiserver later makes the resource Ready there too", async (ctx) => {
  const project = await readyProject(ctx)
  const resource = await create(ctx, project, { kind: "CardanoNodePort", spec: { network: "preview", version: "10.1.4" } })
  await resourceWhere(ctx, resource, (r) => r.phase === "Ready" && r.clusters["res-z"]?.phase === "Unavailable")
  await installCrds(ctx.admin.get("res-z")!)
  const everywhere = await resourceWhere(ctx, resource, (r) => r.clusters["res-z"]?.phase === "Ready")
  assert.equal(phases(everywhere), { "res-x": "Ready", "res-y": "Ready", "res-z": "Ready" })
  assert.equal((await objectIn(ctx, "res-z", project, resource))?.spec, { network: "preview", version: "10.1.4" })
  await waitFor("res-z reported serving CardanoNodePort", async () => {
    const { clusters: listed } = await expectOk(ctx.client.v1.clusters.$get())
    return listed.find((c) => c.id === "res-z")?.kinds?.includes("CardanoNodePort") ? true : undefined
  })
})

resources("drift: an object deleted by hand is applied again, its daemon killed in between; one edited by hand gets Fabric's spec back", async (ctx) => {
  const project = await readyProject(ctx)
  const resource = await create(ctx, project, { kind: "CardanoNodePort", name: "relay", spec: { network: "mainnet", version: "10.1" } })
  await resourceWhere(ctx, resource, (r) => r.phase === "Ready")
  const uid = (await objectIn(ctx, "res-x", project, resource))!.metadata.uid
  await ctx.admin.get("res-x")!.objects.deleteNamespacedCustomObject({ group: "demeter.run", version: "v1alpha1", namespace: project.namespace, plural: "cardanonodeports", name: "relay" })
  await kill(ctx.daemons.get("res-x")!)
  await waitFor("the object gone from res-x", async () => ((await objectIn(ctx, "res-x", project, resource)) === undefined ? true : undefined))
  await startDaemon(ctx, "res-x")
  const repaired = await resourceWhere(ctx, resource, (r) => /repaired: the object was missing/.test(r.clusters["res-x"]?.reason ?? ""))
  assert.is(repaired.clusters["res-x"]!.phase, "Ready")
  const again = (await objectIn(ctx, "res-x", project, resource))!
  assert.is.not(again.metadata.uid, uid)
  assert.equal(again.spec, { network: "mainnet", version: "10.1" })

  await mergePatchObject(ctx, "res-y", project, resource, { spec: { network: "preview" } })
  await resourceWhere(ctx, resource, (r) => /repaired: the object had been changed by hand/.test(r.clusters["res-y"]?.reason ?? ""))
  assert.equal((await objectIn(ctx, "res-y", project, resource))!.spec, { network: "mainnet", version: "10.1" })
})

resources("a foreign object with the resource's name is Conflict and stays untouched", async (ctx) => {
  const project = await readyProject(ctx)
  await ctx.admin.get("res-y")!.objects.createNamespacedCustomObject({
    group: "demeter.run", version: "v1alpha1", namespace: project.namespace, plural: "kupoports",
    body: { apiVersion: "demeter.run/v1alpha1", kind: "KupoPort", metadata: { name: "theirs", labels: { team: "other" } }, spec: { network: "mainnet", pruneUtxo: false } },
  })
  const foreign = (await objectIn(ctx, "res-y", project, { kind: "KupoPort", name: "theirs" } as Resource))!
  const resource = await create(ctx, project, { kind: "KupoPort", name: "theirs", spec: kupo })
  // Degraded as soon as res-y's conflict is in; res-x reports in its own time.
  const conflict = await resourceWhere(ctx, resource, (r) => r.phase === "Degraded" && r.clusters["res-x"]?.phase === "Ready")
  assert.match(conflict.clusters["res-y"]!.reason ?? "", /^Conflict: KupoPort .*\/theirs exists without Fabric's labels/)
  assert.is(conflict.clusters["res-x"]!.phase, "Ready")
  await new Promise((r) => setTimeout(r, 3_000)) // several drift passes
  const still = (await objectIn(ctx, "res-y", project, resource))!
  assert.is(still.metadata.uid, foreign.metadata.uid)
  assert.equal(still.metadata.labels, { team: "other" })
  assert.equal(still.spec, { network: "mainnet", pruneUtxo: false })
})

resources("an apiserver stopped mid-test deletes nothing anywhere and holds only itself back; rpc killed meanwhile; back, it gets the patch made while it was down", async (ctx) => {
  const project = await readyProject(ctx)
  const resource = await create(ctx, project, { kind: "KupoPort", spec: kupo })
  await resourceWhere(ctx, resource, (r) => r.phase === "Ready")
  infra("cluster-down", "res-y")
  await expectOk(ctx.client.v1.projects[":projectId"].resources[":resourceId"].$patch({ param: { projectId: project.id, resourceId: resource.id }, json: { spec: { throughputTier: 2 } } }))
  const during = await resourceWhere(ctx, resource, (r) => r.generation === 2 && r.clusters["res-x"]?.phase === "Ready" && r.clusters["res-y"]?.phase === "Failed")
  assert.is(during.clusters["res-x"]!.observedGeneration, 2)
  await restartRpc(ctx, token)
  await kill(ctx.daemons.get("res-y")!)
  await startDaemon(ctx, "res-y")
  await new Promise((r) => setTimeout(r, 4_000)) // drift passes in every cluster while res-y is down
  assert.equal((await objectIn(ctx, "res-x", project, resource))?.spec, { ...kupo, throughputTier: 2 })
  infra("cluster-up", "res-y")
  const healed = await resourceWhere(ctx, resource, (r) => r.phase === "Ready" && r.clusters["res-y"]?.phase === "Ready" && r.clusters["res-y"].observedGeneration === 2)
  assert.is(healed.generation, 2)
  const o = (await objectIn(ctx, "res-y", project, resource))!
  assert.equal(o.spec, { ...kupo, throughputTier: 2 })
  assert.is(o.metadata.generation, 2)
})

resources("deleting the project removes its resources, and only then the namespace: an object held by a finalizer keeps the namespace until it goes", async (ctx) => {
  const project = await readyProject(ctx)
  const held = await create(ctx, project, { kind: "KupoPort", spec: kupo })
  const other = await create(ctx, project, { kind: "CardanoNodePort", spec: { network: "mainnet", version: "10.1" } })
  await resourceWhere(ctx, held, (r) => r.phase === "Ready")
  await resourceWhere(ctx, other, (r) => r.phase === "Ready")
  await mergePatchObject(ctx, "res-x", project, held, { metadata: { finalizers: ["fabric.demeter.run/test-hold"] } })
  await expectOk(ctx.client.v1.projects[":projectId"].$delete({ param: { projectId: project.id } }))
  // res-x: the held object is being deleted, and its namespace is not (the daemon waits for the object).
  await waitFor("the held object deleting in res-x", async () => ((await objectIn(ctx, "res-x", project, held))?.metadata.deletionTimestamp ? true : undefined))
  await new Promise((r) => setTimeout(r, 2_000))
  const ns = await ctx.admin.get("res-x")!.hooks.inspectNamespace(project.namespace)
  assert.is(ns?.terminating, false, "the namespace waits for the resources")
  assert.is(await objectIn(ctx, "res-x", project, other), undefined, "the other object went first")
  await mergePatchObject(ctx, "res-x", project, held, { metadata: { finalizers: null } })
  const gone = await waitFor(`project ${project.id} Deleted`, async () => {
    const { project: p } = await expectOk(ctx.client.v1.projects[":projectId"].$get({ param: { projectId: project.id } }))
    return p.phase === "Deleted" ? p : undefined
  }, 120_000)
  assert.is(gone.phase, "Deleted")
  for (const r of [held, other]) assert.equal(phases(await resourceWhere(ctx, r, (x) => x.phase === "Deleted")), { "res-x": "Deleted", "res-y": "Deleted", "res-z": "Deleted" })
  for (const id of clusters) assert.is(await ctx.admin.get(id)!.hooks.inspectNamespace(project.namespace), undefined, `${id} still has the namespace`)
  const legacy = await ctx.sql`select status from demeter.resources where project_id = ${project.id}`
  assert.equal(legacy.map((r) => r.status), ["deleted", "deleted"])
})

resources.run()
