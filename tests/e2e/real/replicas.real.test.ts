// Two `fabric rpc` replicas on one Postgres and one Kafka, with a `fabric daemon` per
// kube-apiserver (the three of the test engines). What several replicas must keep:
// - a watch opened on one replica streams a change made through the other, pushed by Postgres
//   (LISTEN/NOTIFY): the watches' fallback re-read is set to 10 minutes here, so only the push
//   can bring it;
// - under creates and deletes sent through both replicas (Idempotency-Keys, retried elsewhere on
//   failure), SIGKILL of the replica that holds the outbox lease, then its restart: every create
//   answered 201 exists exactly once, every project reaches its final phase, the lease moved to
//   the survivor, and fabric.projects read from the beginning by a plain kafkajs consumer ends,
//   for every project, with its newest generation.
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node"
import { Kafka, logLevel } from "kafkajs"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { sseEvents } from "../../../src/cli/watch.ts"
import type { DesiredNamespace } from "../../../src/domain/messages.ts"
import type { Project } from "../../../src/domain/project.ts"
import { deleteKafkaRun } from "../../support/kafka-cleanup.ts"
import { startFabricProcess, type FabricProcess } from "../../support/fabric-process.ts"
import { freshDatabase, requireRealEngines, requireThreeClusters, uniqueKafkaPrefix } from "../../support/real-engines.ts"
import { waitFor } from "../../support/wait-for.ts"

const token = "real-replicas-operator-token-0123"

interface Ctx {
  env: Record<string, string>
  prefix: string
  brokers: Array<string>
  /** The two rpc replicas; a restarted one takes its predecessor's place. */
  replicas: Array<FabricProcess>
  daemons: Array<FabricProcess>
  apiservers: Array<CoreV1Api>
  namespaces: Set<string>
  dropDatabase: () => Promise<void>
}

const replicas = suite<Ctx>("two fabric rpc replicas on Postgres and Kafka, three daemons")

interface Answer { readonly status: number; readonly json: any }

const call = async (url: string, method: string, path: string, init: { body?: unknown; key?: string } = {}): Promise<Answer> => {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` }
  if (init.body !== undefined) headers["content-type"] = "application/json"
  if (init.key !== undefined) headers["idempotency-key"] = init.key
  const r = await fetch(url + path, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), signal: AbortSignal.timeout(30_000) })
  return { status: r.status, json: await r.json().catch(() => undefined) }
}

/**
 * Sends a request the way a careful client does: to replica `first`, and on a failure (no answer,
 * 5xx, 429, or 409 "in progress" for an Idempotency-Key) again to the next replica, with the same
 * key, until an answer says what happened.
 */
const reliably = async (ctx: Ctx, first: number, method: string, path: string, init: { body?: unknown; key?: string } = {}): Promise<Answer> => {
  let last = "no attempt"
  for (let attempt = 0; attempt < 60; attempt++) {
    const replica = ctx.replicas[(first + attempt) % ctx.replicas.length]!
    try {
      const answer = await call(replica.url, method, path, init)
      const retry = answer.status >= 500 || answer.status === 429 || (answer.status === 409 && init.key !== undefined && /in progress/.test(answer.json?.error?.message ?? ""))
      if (!retry) return answer
      last = `${answer.status} ${JSON.stringify(answer.json)}`
    } catch (e) {
      last = String(e)
    }
    // a replica that is down refuses at once: wait a little before the next one
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`${method} ${path}: no answer after 60 attempts; last: ${last}`)
}

/** Who holds each lease, as a replica's /readyz says. */
const readiness = async (replica: FabricProcess) => (await call(replica.url, "GET", "/readyz")).json as { replica: string; leases: Record<string, string> }
const holderPid = (holder: string) => Number(holder.slice(holder.lastIndexOf(":") + 1))

const listProjects = async (ctx: Ctx, accountId: string): Promise<Array<Project>> => {
  const all: Array<Project> = []
  let cursor: string | undefined
  do {
    const page = await reliably(ctx, 0, "GET", `/v1/accounts/${accountId}/projects?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)
    assert.is(page.status, 200, JSON.stringify(page.json))
    all.push(...page.json.projects)
    cursor = page.json.nextCursor ?? undefined
  } while (cursor !== undefined)
  return all
}

/** fabric.projects of this run from the beginning, by a plain kafkajs consumer: each key's last value. */
const lastDesired = async (ctx: Ctx): Promise<Map<string, DesiredNamespace>> => {
  const topic = `${ctx.prefix}fabric.projects`
  const kafka = new Kafka({ clientId: "replicas-test-reader", brokers: ctx.brokers, logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const ends = await admin.fetchTopicOffsets(topic)
  await admin.disconnect()
  const remaining = new Map(ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high) - 1n]))
  const last = new Map<string, DesiredNamespace>()
  const consumer = kafka.consumer({ groupId: `${ctx.prefix}replicas-test-reader` })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    const done = Promise.withResolvers<void>()
    // A partition is read to its end when a batch reaches it; the last offsets may be transaction
    // markers, which no consumer is handed.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const end = remaining.get(payload.partition)
      if (end !== undefined && BigInt(payload.lastOffset) >= end) remaining.delete(payload.partition)
      if (remaining.size === 0) done.resolve()
    })
    await consumer.run({
      eachMessage: async ({ message }) => {
        last.set(message.key!.toString(), JSON.parse(message.value!.toString()) as DesiredNamespace)
      },
    })
    if (remaining.size === 0) done.resolve()
    await waitFor("fabric.projects read to its end", async () => (remaining.size === 0 ? true : undefined), 60_000)
  } finally {
    await consumer.disconnect()
  }
  return last
}

replicas.before(async (ctx) => {
  const { kafkaBrokers } = requireRealEngines()
  const { kubeconfigs, admins } = requireThreeClusters()
  const database = await freshDatabase()
  ctx.dropDatabase = database.drop
  ctx.prefix = uniqueKafkaPrefix()
  ctx.brokers = kafkaBrokers.split(",")
  ctx.namespaces = new Set()
  ctx.env = {
    DATABASE_URL: database.url, KAFKA_BROKERS: kafkaBrokers, FABRIC_KAFKA_PREFIX: ctx.prefix, FABRIC_ADMIN_TOKEN: token,
    FABRIC_HEARTBEAT_SECONDS: "1", FABRIC_PARTITIONS: "3", FABRIC_PROJECT_QUOTA: "500",
    // only a notification can bring a watch a change in this suite's time
    FABRIC_WATCH_POLL_SECONDS: "600",
  }
  ctx.apiservers = admins.map((path) => {
    const kc = new KubeConfig()
    kc.loadFromFile(path)
    return kc.makeApiClient(CoreV1Api)
  })
  ctx.replicas = [await startFabricProcess(ctx.env, 60_000, ["rpc"]), await startFabricProcess(ctx.env, 60_000, ["rpc"])]
  ctx.daemons = []
  for (const path of kubeconfigs) {
    const kc = new KubeConfig()
    kc.loadFromFile(path)
    ctx.daemons.push(await startFabricProcess(ctx.env, 60_000, ["daemon", "--cluster", kc.getCurrentContext(), "--kubeconfig", path]))
  }
  await waitFor("3 Active clusters", async () => {
    const { json } = await call(ctx.replicas[0]!.url, "GET", "/v1/clusters")
    return json.clusters.filter((c: { phase: string }) => c.phase === "Active").length === 3 ? true : undefined
  })
})

replicas.after(async (ctx) => {
  for (const p of [...(ctx.daemons ?? []), ...(ctx.replicas ?? [])]) await p.stop()
  for (const api of ctx.apiservers ?? []) {
    for (const name of ctx.namespaces ?? []) await api.deleteNamespace({ name }).catch(() => undefined)
  }
  await deleteKafkaRun(ctx.brokers ?? [], ctx.prefix).catch(() => undefined)
  await ctx.dropDatabase?.()
})

replicas("a watch opened on one replica streams a change made through the other", async (ctx) => {
  const [a, b] = ctx.replicas as [FabricProcess, FabricProcess]
  const created = await call(b.url, "POST", "/v1/accounts", { body: { name: "Watch Co", email: "watch@replicas.test" }, key: "watch-account" })
  assert.is(created.status, 201, JSON.stringify(created.json))
  const project = created.json.project as Project
  ctx.namespaces.add(project.namespace)
  await waitFor("the project Ready", async () => ((await call(a.url, "GET", `/v1/projects/${project.id}`)).json.project.phase === "Ready" ? true : undefined))

  const watch = await fetch(`${a.url}/v1/projects/${project.id}/watch`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) })
  assert.is(watch.status, 200)
  const events = sseEvents(watch.body!)
  const first = await events.next()
  assert.is(JSON.parse(first.value!.data).phase, "Ready")
  const deleted = await call(b.url, "DELETE", `/v1/projects/${project.id}`)
  assert.is(deleted.status, 202)
  // Every change after the delete (B's, then the observations either replica applies) is
  // notified; the first to arrive shows the deletion.
  const next = await events.next()
  assert.is(next.value!.event, "project")
  assert.is(JSON.parse(next.value!.data).phase === "Deleting" || JSON.parse(next.value!.data).phase === "Deleted", true, next.value!.data)
  await events.return(undefined)
})

replicas("creates and deletes through both replicas, SIGKILL of the outbox holder mid-load and its restart: every 201 exists once, every project ends Ready or Deleted, fabric.projects ends with each newest generation", async (ctx) => {
  const account = await reliably(ctx, 0, "POST", "/v1/accounts", { body: { name: "Load Co", email: "load@replicas.test" }, key: "load-account" })
  assert.is(account.status, 201, JSON.stringify(account.json))
  const accountId = account.json.account.id as string
  ctx.namespaces.add(account.json.project.namespace)

  const creates = 48
  const killAfter = 16
  const created = new Map<number, Project>()
  const deleteAnswers = new Map<string, number>()
  let killed: { pid: number; holder: string } | undefined
  let restarted: Promise<void> | undefined

  // The outbox holder, found through /readyz, killed once a third of the creates are answered.
  const killOutboxHolder = async () => {
    const { leases } = await readiness(ctx.replicas[0]!)
    const holder = leases["outbox-relay"]!
    const index = ctx.replicas.findIndex((r) => r.child.pid === holderPid(holder))
    assert.ok(index >= 0, `the outbox holder ${holder} is none of the replicas`)
    const victim = ctx.replicas[index]!
    victim.child.kill("SIGKILL")
    assert.is((await victim.exited).signal, "SIGKILL")
    killed = { pid: victim.child.pid!, holder }
    restarted = (async () => {
      const survivor = ctx.replicas[1 - index]!
      // the lease moves to the survivor, which relays from then on
      await waitFor("the survivor to hold the outbox lease", async () => ((await readiness(survivor)).leases["outbox-relay"] === (await readiness(survivor)).replica ? true : undefined))
      ctx.replicas[index] = await startFabricProcess(ctx.env, 60_000, ["rpc"])
    })()
  }

  let next = 0
  const worker = async () => {
    for (let i = next++; i < creates; i = next++) {
      const answer = await reliably(ctx, i % 2, "POST", `/v1/accounts/${accountId}/projects`, { body: { name: `load ${i}` }, key: `load-create-${i}` })
      assert.is(answer.status, 201, JSON.stringify(answer.json))
      const project = answer.json.project as Project
      created.set(i, project)
      ctx.namespaces.add(project.namespace)
      if (created.size === killAfter && killed === undefined) await killOutboxHolder()
      // every third project is deleted again, through the other replica (DELETE is idempotent:
      // a project already deleting is answered as it is)
      if (i % 3 === 0) deleteAnswers.set(project.id, (await reliably(ctx, (i + 1) % 2, "DELETE", `/v1/projects/${project.id}`)).status)
    }
  }
  await Promise.all(Array.from({ length: 6 }, worker))
  assert.ok(killed !== undefined, "the outbox holder was never killed")
  await restarted

  // Every create answered 201 exists exactly once (a retried create replayed its first answer).
  const listed = await listProjects(ctx, accountId)
  assert.is(listed.length, creates + 1, `projects listed: ${listed.length}`)
  for (const [i, project] of created) {
    assert.equal(listed.filter((p) => p.name === `load ${i}`).map((p) => p.id), [project.id], `create ${i}`)
  }
  for (const [id, status] of deleteAnswers) assert.is(status, 202, `DELETE ${id}`)

  // Every project reaches its final phase.
  const deleted = new Set(deleteAnswers.keys())
  const final = await waitFor(() => "every project Ready or Deleted", async () => {
    const all = await listProjects(ctx, accountId)
    return all.every((p) => p.phase === (deleted.has(p.id) ? "Deleted" : "Ready")) ? all : undefined
  }, 240_000, 500)

  // The lease holder changed, and the restarted replica is serving.
  const now = await readiness(ctx.replicas[0]!)
  assert.not.equal(now.leases["outbox-relay"], killed!.holder)
  assert.is((await call(ctx.replicas[1]!.url, "GET", "/readyz")).status, 200)

  // fabric.projects ends, for every project, with its newest generation (and whether it is deleted).
  const desired = await lastDesired(ctx)
  for (const project of final) {
    const last = desired.get(project.id)
    assert.ok(last !== undefined, `${project.id} is not on fabric.projects`)
    assert.equal({ generation: last!.generation, deleted: last!.deleted }, { generation: project.generation, deleted: project.phase === "Deleted" }, project.id)
  }
})

replicas.run()
