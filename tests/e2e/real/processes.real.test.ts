// Production shape on the real engines: `fabric rpc` and one `fabric daemon` per kube-apiserver,
// as separate processes on Postgres and Kafka. Checked through the typed client AND by reading
// each apiserver directly. Faults: a daemon killed with SIGKILL and restarted loses nothing.
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk, fabricClient, type FabricClient, type Project } from "../../../rpc/client.ts"
import { isOwnedBy } from "../../../src/services/cluster.ts"
import { waitFor } from "../../support/wait-for.ts"
import { startFabricProcess, type FabricProcess } from "../../support/fabric-process.ts"
import { freshDatabase, requireRealEngines, requireThreeClusters, uniqueKafkaPrefix } from "../../support/real-engines.ts"

const token = "real-e2e-operator-token-0123456789"

interface Ctx {
  rpc: FabricProcess
  daemons: Map<string, FabricProcess>
  apiservers: Map<string, CoreV1Api>
  client: FabricClient
  env: Record<string, string>
  kubeconfigs: Map<string, string>
  dropDatabase: () => Promise<void>
  created: Array<{ namespace: string }>
}

const real = suite<Ctx>("fabric rpc + fabric daemon on Postgres, Kafka and kube-apiservers")

const contextOf = (path: string) => {
  const kc = new KubeConfig()
  kc.loadFromFile(path)
  return { id: kc.getCurrentContext(), kc }
}

const startDaemon = (ctx: Ctx, id: string) =>
  startFabricProcess(ctx.env, 60_000, ["daemon", "--cluster", id, "--kubeconfig", ctx.kubeconfigs.get(id)!])


const getProject = async (client: FabricClient, id: string): Promise<Project> => {
  return (await expectOk(client.v1.projects[":projectId"].$get({ param: { projectId: id } }))).project
}

const projectWhere = (client: FabricClient, id: string, done: (p: Project) => boolean, timeoutMs?: number) =>
  waitFor(`project ${id}`, async () => {
    const p = await getProject(client, id)
    return done(p) ? p : undefined
  }, timeoutMs)

real.before(async (ctx) => {
  const { kafkaBrokers } = requireRealEngines()
  const { kubeconfigs, admins } = requireThreeClusters()
  const database = await freshDatabase()
  ctx.dropDatabase = database.drop
  ctx.created = []
  ctx.env = {
    DATABASE_URL: database.url, KAFKA_BROKERS: kafkaBrokers, FABRIC_KAFKA_PREFIX: uniqueKafkaPrefix(),
    FABRIC_ADMIN_TOKEN: token, FABRIC_HEARTBEAT_SECONDS: "1", FABRIC_PARTITIONS: "3",
  }
  ctx.kubeconfigs = new Map(kubeconfigs.map((p) => [contextOf(p).id, p]))
  ctx.apiservers = new Map(admins.map((p) => [contextOf(p).id, contextOf(p).kc.makeApiClient(CoreV1Api)]))
  ctx.rpc = await startFabricProcess(ctx.env, 60_000, ["rpc"])
  ctx.daemons = new Map()
  for (const id of ctx.kubeconfigs.keys()) ctx.daemons.set(id, await startDaemon(ctx, id))
  ctx.client = fabricClient(ctx.rpc.url, token)
  await waitFor("3 Active clusters", async () => {
    const r = await ctx.client.v1.clusters.$get()
    const { clusters } = await r.json()
    return clusters.filter((c) => c.phase === "Active").length === 3 ? clusters : undefined
  })
})

real.after(async (ctx) => {
  for (const d of ctx.daemons?.values() ?? []) await d.stop()
  await ctx.rpc?.stop()
  for (const api of ctx.apiservers?.values() ?? []) {
    for (const { namespace } of ctx.created ?? []) await api.deleteNamespace({ name: namespace }).catch(() => undefined)
  }
  await ctx.dropDatabase?.()
})

const namespaceIn = (api: CoreV1Api, name: string) => api.readNamespace({ name }).catch(() => undefined)

real("an account's default project becomes a labelled namespace in every apiserver, Ready per cluster", async (ctx) => {
  const { account, project } = await expectOk(ctx.client.v1.accounts.$post({ json: { name: "Real Corp", email: "ops@real.test" } }))
  ctx.created.push(project)
  const ready = await projectWhere(ctx.client, project.id, (p) => p.phase === "Ready")
  assert.equal(Object.keys(ready.clusters).sort(), [...ctx.kubeconfigs.keys()].sort())
  for (const [id, api] of ctx.apiservers) {
    assert.is(ready.clusters[id]!.phase, "Ready")
    const ns = await namespaceIn(api, project.namespace)
    assert.ok(ns, `namespace ${project.namespace} missing in ${id}`)
    assert.ok(isOwnedBy(ns!.metadata?.labels, project.id), `${id} labels ${JSON.stringify(ns!.metadata?.labels)}`)
    assert.is(ns!.metadata?.annotations?.["fabric.demeter.run/account"], account.id)
  }
})

real("a daemon killed with SIGKILL loses nothing: its cluster catches up after a restart", async (ctx) => {
  const acc = await expectOk(ctx.client.v1.accounts.$post({ json: { name: "Kill Co", email: "kill@real.test" } }))
  ctx.created.push(acc.project)
  await projectWhere(ctx.client, acc.project.id, (p) => p.phase === "Ready")
  const [victim] = [...ctx.daemons.keys()]
  const daemon = ctx.daemons.get(victim!)!
  daemon.child.kill("SIGKILL")
  assert.equal((await daemon.exited).signal, "SIGKILL")

  const { project } = await expectOk(ctx.client.v1.accounts[":accountId"].projects.$post({ param: { accountId: acc.account.id }, json: { name: "while down" } }))
  ctx.created.push(project)
  const partial = await projectWhere(ctx.client, project.id, (p) =>
    Object.entries(p.clusters).filter(([id]) => id !== victim).every(([, c]) => c.phase === "Ready"))
  assert.is(partial.clusters[victim!]!.phase, "Pending")
  assert.is(await namespaceIn(ctx.apiservers.get(victim!)!, project.namespace), undefined)

  ctx.daemons.set(victim!, await startDaemon(ctx, victim!))
  const ready = await projectWhere(ctx.client, project.id, (p) => p.phase === "Ready")
  assert.is(ready.clusters[victim!]!.phase, "Ready")
  const list = await ctx.apiservers.get(victim!)!.listNamespace({ labelSelector: `fabric.demeter.run/project=${project.id}` })
  assert.is(list.items.length, 1)
})

real("deletion removes the namespace from every apiserver (the namespace controller finishes) and ends Deleted", async (ctx) => {
  const acc = await expectOk(ctx.client.v1.accounts.$post({ json: { name: "Delete Co", email: "delete@real.test" } }))
  ctx.created.push(acc.project)
  await projectWhere(ctx.client, acc.project.id, (p) => p.phase === "Ready")
  const r = await ctx.client.v1.projects[":projectId"].$delete({ param: { projectId: acc.project.id } })
  assert.is(r.status, 202)
  const gone = await projectWhere(ctx.client, acc.project.id, (p) => p.phase === "Deleted", 90_000)
  assert.equal(Object.values(gone.clusters).map((c) => c.phase), ["Deleted", "Deleted", "Deleted"])
  for (const [id, api] of ctx.apiservers) assert.is(await namespaceIn(api, acc.project.namespace), undefined, `${id} still has it`)
})

real.run()
