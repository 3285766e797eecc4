// The daemons under a real apiserver's latency: `fabric rpc` and one `fabric daemon` per
// kube-apiserver as processes on Postgres and Kafka, each daemon talking to its apiserver through
// a proxy that holds every chunk 100 ms in each direction. 50 projects are created while 50 made
// before are deleted; every one reaches its final phase, checked in the apiservers directly
// (without the proxy), and fabric.status, read from its beginning, shows no project handled out
// of order in any cluster. The bound is a generous failure deadline; nothing is timed.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node"
import { Kafka, logLevel } from "kafkajs"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk, fabricClient, type FabricClient, type Project } from "../../../rpc/client.ts"
import { topics, type NamespaceObservation } from "../../../src/domain/messages.ts"
import { managedByLabel, managedByValue, projectLabel } from "../../../src/services/cluster.ts"
import { startFabricProcess, type FabricProcess } from "../../support/fabric-process.ts"
import { deleteKafkaRun } from "../../support/kafka-cleanup.ts"
import { apiserverOf, startLatencyProxy, writeKubeconfigThrough, type LatencyProxy } from "../../support/latency-proxy.ts"
import { freshDatabase, requireRealEngines, uniqueKafkaPrefix } from "../../support/real-engines.ts"
import { waitFor } from "../../support/wait-for.ts"

const token = "real-latency-operator-token-0123456789"
const delayMs = 100
const batch = 50
/** A failure deadline for the whole convergence, far above what it needs; never a measurement. */
const convergeMs = 10 * 60_000

interface Ctx {
  env: Record<string, string>
  kafkaBrokers: string[]
  prefix: string
  rpc: FabricProcess
  daemons: FabricProcess[]
  proxies: LatencyProxy[]
  apiservers: Map<string, CoreV1Api>
  client: FabricClient
  dropDatabase: () => Promise<void>
  dir: string
  live: Project[]
}

const latency = suite<Ctx>("daemons behind 100 ms of apiserver latency each way")

const contextOf = (path: string) => {
  const kc = new KubeConfig()
  kc.loadFromFile(path)
  return { id: kc.getCurrentContext(), kc }
}

/** Runs `work` over `items`, at most `width` at a time. */
const inPool = async <T, R>(items: ReadonlyArray<T>, width: number, work: (item: T) => Promise<R>): Promise<R[]> => {
  const results: R[] = new Array(items.length)
  let next = 0
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await work(items[i]!)
    }
  }))
  return results
}

const start = async (ctx: Ctx) => {
  const { kafkaBrokers } = requireRealEngines()
  const kubeconfigs = (process.env.FABRIC_KUBECONFIGS ?? "").split(",").filter(Boolean).slice(0, 3)
  const admins = (process.env.FABRIC_ADMIN_KUBECONFIGS ?? "").split(",").filter(Boolean).slice(0, 3)
  if (kubeconfigs.length < 3 || admins.length !== kubeconfigs.length) throw new Error("FABRIC_KUBECONFIGS / FABRIC_ADMIN_KUBECONFIGS must list 3 clusters: run `npm run infra:up`")
  const database = await freshDatabase()
  ctx.dropDatabase = database.drop
  ctx.kafkaBrokers = kafkaBrokers.split(",")
  ctx.prefix = uniqueKafkaPrefix()
  ctx.live = []
  ctx.dir = mkdtempSync(join(tmpdir(), "fabric-latency-"))
  ctx.env = {
    DATABASE_URL: database.url, KAFKA_BROKERS: kafkaBrokers, FABRIC_KAFKA_PREFIX: ctx.prefix,
    FABRIC_ADMIN_TOKEN: token, FABRIC_HEARTBEAT_SECONDS: "1", FABRIC_PARTITIONS: "3",
    // One account holds all the projects; drift checks run often, among the deletions.
    FABRIC_PROJECT_QUOTA: String(3 * batch), FABRIC_DRIFT_SECONDS: "5",
  }
  ctx.apiservers = new Map(admins.map((p) => [contextOf(p).id, contextOf(p).kc.makeApiClient(CoreV1Api)]))
  ctx.proxies = []
  ctx.daemons = []
  ctx.rpc = await startFabricProcess(ctx.env, 60_000, ["rpc"])
  for (const path of kubeconfigs) {
    const proxy = await startLatencyProxy(apiserverOf(path), delayMs)
    ctx.proxies.push(proxy)
    const { id } = contextOf(path)
    const through = writeKubeconfigThrough(path, proxy, join(ctx.dir, `${id}.kubeconfig`))
    ctx.daemons.push(await startFabricProcess(ctx.env, 120_000, ["daemon", "--cluster", id, "--kubeconfig", through]))
  }
  ctx.client = fabricClient(ctx.rpc.url, token)
  await waitFor("3 Active clusters", async () => {
    const { clusters } = await (await ctx.client.v1.clusters.$get()).json()
    return clusters.filter((c) => c.phase === "Active").length === 3 ? clusters : undefined
  })
}

// uvu reports a failed hook without its error: print it, then fail.
latency.before((ctx) => start(ctx).catch((e: unknown) => {
  console.error("daemon-latency: start failed:", e)
  throw e
}))

latency.after(async (ctx) => {
  for (const d of ctx.daemons ?? []) await d.stop()
  await ctx.rpc?.stop()
  for (const proxy of ctx.proxies ?? []) await proxy.close()
  for (const api of ctx.apiservers?.values() ?? []) {
    for (const { namespace } of ctx.live ?? []) await api.deleteNamespace({ name: namespace }).catch(() => undefined)
  }
  if (ctx.prefix) await deleteKafkaRun(ctx.kafkaBrokers, ctx.prefix).catch(() => undefined)
  await ctx.dropDatabase?.()
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true })
})

/** Every project of the account, a page at a time. */
const listProjects = async (client: FabricClient, accountId: string): Promise<Project[]> => {
  const all: Project[] = []
  let cursor: string | undefined
  do {
    const page = await expectOk(client.v1.accounts[":accountId"].projects.$get({ param: { accountId }, query: { limit: "100", ...(cursor ? { cursor } : {}) } }))
    all.push(...page.projects)
    cursor = page.nextCursor ?? undefined
  } while (cursor)
  return all
}

/** Waits until every listed project is in its expected phase; the failure names the laggards. */
const untilPhases = (client: FabricClient, accountId: string, expected: ReadonlyMap<string, Project["phase"]>) => {
  let behind: string[] = []
  return waitFor(() => `${behind.length} projects to reach their phase, e.g. ${behind.slice(0, 5).join(", ")}`, async () => {
    const byId = new Map<string, Project>((await listProjects(client, accountId)).map((p) => [p.id, p]))
    behind = [...expected].filter(([id, phase]) => byId.get(id)?.phase !== phase).map(([id, phase]) => `${id} ${byId.get(id)?.phase} (want ${phase})`)
    return behind.length === 0 ? byId : undefined
  }, convergeMs, 1_000)
}

const createProject = async (client: FabricClient, accountId: string, name: string): Promise<Project> => {
  return (await expectOk(client.v1.accounts[":accountId"].projects.$post({ param: { accountId }, json: { name } }))).project
}

/** fabric.status from its beginning to its end now, in offset order per partition. */
const readStatus = async (brokers: string[], prefix: string) => {
  const topic = `${prefix}${topics.status}`
  const kafka = new Kafka({ clientId: "fabric-latency-check", brokers, logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]))
  await admin.disconnect()
  const seen = new Map<number, Array<{ offset: bigint; observation: NamespaceObservation }>>()
  const done = () => [...ends].every(([partition, high]) => high === 0n || (seen.get(partition)?.at(-1)?.offset ?? -1n) >= high - 1n)
  const consumer = kafka.consumer({ groupId: `${prefix}latency-check` })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      const list = seen.get(partition) ?? []
      list.push({ offset: BigInt(message.offset), observation: JSON.parse(message.value!.toString()) as NamespaceObservation })
      seen.set(partition, list)
    },
  })
  await waitFor("fabric.status read to its end", async () => (done() ? true : undefined), 120_000, 100)
  await consumer.disconnect()
  return [...seen.values()].flatMap((list) => list.sort((a, b) => (a.offset < b.offset ? -1 : 1)).map((m) => m.observation))
}

latency("50 creations while 50 deletions run: all reach their phase, once each in every apiserver, each project handled in order", async (ctx) => {
  const { account, project: first } = await expectOk(ctx.client.v1.accounts.$post({ json: { name: "Latency Co", email: "latency@real.test" } }))
  ctx.live.push(first)
  const older = await inPool(Array.from({ length: batch }, (_, i) => `older ${i}`), 10, (name) => createProject(ctx.client, account.id, name))
  ctx.live.push(...older)
  await untilPhases(ctx.client, account.id, new Map([first, ...older].map((p) => [p.id, "Ready" as const])))

  // Interleaved: each creation goes out beside a deletion of one made before.
  const newer = await inPool(older.map((p, i) => ({ doomed: p, name: `newer ${i}` })), 10, async ({ doomed, name }) => {
    const [project, deleted] = await Promise.all([
      createProject(ctx.client, account.id, name),
      ctx.client.v1.projects[":projectId"].$delete({ param: { projectId: doomed.id } }),
    ])
    assert.is(deleted.status, 202)
    ctx.live.push(project)
    return project
  })
  const final = await untilPhases(ctx.client, account.id, new Map([
    ...[first, ...newer].map((p) => [p.id, "Ready"] as const),
    ...older.map((p) => [p.id, "Deleted"] as const),
  ]))
  for (const p of newer) for (const id of ctx.apiservers.keys()) assert.is(final.get(p.id)!.clusters[id]?.phase, "Ready", `${p.id} in ${id}`)
  for (const p of older) for (const id of ctx.apiservers.keys()) assert.is(final.get(p.id)!.clusters[id]?.phase, "Deleted", `${p.id} in ${id}`)

  // The apiservers themselves, without the proxy: each live namespace once, each deleted one gone.
  for (const [id, api] of ctx.apiservers) {
    const managed = (await api.listNamespace({ labelSelector: `${managedByLabel}=${managedByValue}` })).items
    const byProject = new Map<string, string[]>()
    for (const ns of managed) {
      const owner = ns.metadata?.labels?.[projectLabel] ?? ""
      byProject.set(owner, [...(byProject.get(owner) ?? []), `${ns.metadata?.name} ${ns.status?.phase}`])
    }
    for (const p of [first, ...newer]) assert.equal(byProject.get(p.id), [`${p.namespace} Active`], `${p.namespace} in ${id}`)
    for (const p of older) {
      assert.is(byProject.get(p.id), undefined, `${p.namespace} still in ${id}`)
      assert.is(await api.readNamespace({ name: p.namespace }).catch(() => undefined), undefined, `${p.namespace} still in ${id}`)
    }
  }

  // Per project and cluster, in the order the daemons published: generations never go down, so
  // no older desired state was handled after a newer one; a deletion's Deleted comes after the
  // creation's Ready, never before it; and drift never had anything to repair.
  const observations = await readStatus(ctx.kafkaBrokers, ctx.prefix)
  const history = new Map<string, NamespaceObservation[]>()
  for (const o of observations) history.set(`${o.projectId} ${o.clusterId}`, [...(history.get(`${o.projectId} ${o.clusterId}`) ?? []), o])
  const story = (list: NamespaceObservation[]) => list.map((o) => `${o.phase}@${o.generation}`).join(" ")
  for (const [where, list] of history) {
    for (let i = 1; i < list.length; i++) assert.ok(list[i]!.generation >= list[i - 1]!.generation, `${where} went back: ${story(list)}`)
    assert.not.ok(list.some((o) => /repaired/.test(o.reason ?? "")), `${where} was repaired: ${story(list)}`)
  }
  for (const p of older) {
    for (const id of ctx.apiservers.keys()) {
      const list = history.get(`${p.id} ${id}`) ?? []
      const firstDeleted = list.findIndex((o) => o.phase === "Deleted")
      const lastReady = list.findLastIndex((o) => o.phase === "Ready" && o.generation === 1)
      assert.ok(lastReady >= 0 && firstDeleted > lastReady, `${p.id} in ${id}: ${story(list)}`)
      assert.is(list.at(-1)!.phase, "Deleted", `${p.id} in ${id}: ${story(list)}`)
      assert.is(list.at(-1)!.generation, 2, `${p.id} in ${id}: ${story(list)}`)
    }
  }
  for (const p of newer) {
    for (const id of ctx.apiservers.keys()) {
      const list = history.get(`${p.id} ${id}`) ?? []
      assert.equal(list.at(-1) && [list.at(-1)!.phase, list.at(-1)!.generation], ["Ready", 1], `${p.id} in ${id}: ${story(list)}`)
    }
  }
  ctx.live = [first, ...newer]
})

latency.run()
