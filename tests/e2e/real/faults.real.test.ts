// The fault campaign (issue 9, item 3): `fabric rpc` and one `fabric daemon` per kube-apiserver on
// Postgres and Kafka, while a client creates and deletes projects at a steady rate, retrying every
// failed call (a create with the same Idempotency-Key), and the suite, one fault after another:
//   (a) SIGKILLs `fabric rpc` and starts it again,
//   (b) SIGKILLs each daemon in turn and starts it again,
//   (c) SIGKILLs the Kafka broker and starts it again,
//   (d) restarts Postgres (immediate: no checkpoint, crash recovery),
//   (e) stops apiserver b for 60 s,
//   (f) meanwhile, makes the proxy in front of apiserver c (tests/support/fault-proxy.ts; daemon c
//       talks to c only through it) answer 30% of requests with a 500, a 503 or no answer at all,
//       and another proxy, between the client and fabric rpc, do the same to the client's calls.
// After each fault it waits until a project created after it is Ready in every cluster. Then the
// client stops, and: every key maps to exactly one project; every live project is Ready and every
// deleted one Deleted, in every cluster; each live project's namespace exists exactly once in every
// apiserver and no deleted one anywhere, and none was ever created twice (a watch on every apiserver
// saw each name with one uid: nothing deleted was brought back, nothing vanished and was repaired);
// the legacy demeter.* rows equal Fabric's; every consumer group's lag is 0 and the outbox is
// empty; nothing is in the dead-letter topic. It prints the counts. rpc is killed, and Postgres
// restarted, while a create is in flight, and the client's proxy loses answers after the work was
// done: a retry after a commit must be a replay (counted, and asserted to have happened: the
// project's createdAt is before the failed attempt ended).
//
// The campaign kills engines, so it runs on engines of its own, never the shared ones:
// `FABRIC_INFRA_PROFILE=faults-N FABRIC_INFRA_PORT_OFFSET=N*1000 deploy/infra/infra.sh up` (own
// run dir and ports, the cached binaries) in a slot N of its own (up to three campaigns at once on
// one machine), brought down again at the end (and first, in case a killed run left them).
// Supervision: a Fabric process that exits when not asked to is started again (as Kubernetes
// would) and the exit is counted; the campaign asserts there were none.
import { spawn, type ChildProcess } from "node:child_process"
import { appendFileSync, mkdirSync, readFileSync, rmSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { CoreV1Api, KubeConfig, Watch, type V1Namespace } from "@kubernetes/client-node"
import { Kafka, logLevel } from "kafkajs"
import postgres from "postgres"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { managedByLabel, managedByValue, projectLabel } from "../../../src/services/cluster.ts"
import { parseExposition } from "../../support/exposition.ts"
import { freePort } from "../../support/ports.ts"
import { seededRandom, startFaultProxy, type FaultProxy, type FaultStats } from "../../support/fault-proxy.ts"
import { apiserverOf, writeKubeconfigThrough } from "../../support/latency-proxy.ts"
import { SupervisedProcess } from "../../support/supervised-process.ts"
import { waitFor } from "../../support/wait-for.ts"

const root = new URL("../../..", import.meta.url).pathname
// Several campaigns may run on one machine at once (worktrees of one repository, CI beside a
// developer): each takes one of three slots, held with flock(1) for as long as this process lives
// (a SIGKILLed run releases it), and runs on its own profile: faults-N, ports +N*1000.
const slots = [1, 2, 3]
const cache = process.env.FABRIC_INFRA_CACHE ?? join(homedir(), ".cache/fabric-infra")
let slot = 0
let profile = ""
const token = "fault-campaign-operator-token-0123456789"
const clusters = ["a", "b", "c"] as const
/** The client starts one operation (create, or delete of a live project) this often. */
const intervalMs = Number(process.env.FABRIC_FAULTS_INTERVAL_MS ?? 700)
const seed = Number(process.env.FABRIC_FAULTS_SEED ?? 9)
const outageMs = 60_000
let kafkaPrefix = "faults." // faults<slot>. once the slot is known
let slotHolder: ChildProcess | undefined
const proxyFaultRate = 0.3

const t0 = Date.now()
/**
 * Every wait ends by this point, so a campaign that does not converge fails with what it waited
 * for and still tears its engines down, inside tests/run.ts's per-file limit (600 s by default).
 */
const budgetEnd = t0 + Number(process.env.FABRIC_FAULTS_BUDGET_MS ?? 540_000)
const within = (ms: number) => Math.max(1_000, Math.min(ms, budgetEnd - Date.now()))
const say = (line: string) => console.log(`[faults +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** deploy/infra/infra.sh on the campaign's profile, without blocking the event loop (the client keeps going). */
const infra = (...args: string[]) =>
  new Promise<string>((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, FABRIC_INFRA_PROFILE: profile, FABRIC_INFRA_PORT_OFFSET: String(slot * 1000) }
    delete env.FABRIC_INFRA_RUN // the shared engines' run dir, exported by tests/run.ts
    const child = spawn("bash", ["deploy/infra/infra.sh", ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (err += d))
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`infra.sh ${args.join(" ")} (profile ${profile}) exited ${code}:\n${err}`))))
  })

// tests/run.ts SIGKILLs a file that runs past its limit, and the Fabric processes it started live
// on: every pid is written here, and the next run kills those still running (checked to be this
// suite's: `fabric` processes with its Kafka prefix) before it starts.
const pidFile = () => join(cache, `fault-campaign-${slot}.pids`)
const killLeftovers = (): number => {
  let pids: string[]
  try { pids = readFileSync(pidFile(), "utf8").split("\n").filter(Boolean) } catch { return 0 }
  let killed = 0
  for (const pid of pids) {
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8")
      if (environ.includes(`FABRIC_KAFKA_PREFIX=${kafkaPrefix}`) && cmdline.includes("src/bin/fabric.ts")) {
        process.kill(Number(pid), "SIGKILL")
        killed++
      }
    } catch { /* gone already */ }
  }
  rmSync(pidFile(), { force: true })
  return killed
}
const recordPid = (pid: number) => appendFileSync(pidFile(), `${pid}\n`)

/** The slot's lock, held by a child (flock, then cat on our pipe) until this process ends; undefined if taken. */
const takeSlot = (n: number) =>
  new Promise<ChildProcess | undefined>((resolve) => {
    mkdirSync(cache, { recursive: true })
    const holder = spawn("flock", ["-n", join(cache, `fault-campaign-${n}.lock`), "sh", "-c", "echo locked; exec cat"], { stdio: ["pipe", "pipe", "ignore"] })
    holder.stdout!.once("data", () => resolve(holder))
    holder.once("exit", () => resolve(undefined))
    holder.once("error", () => resolve(undefined))
  })

// ---------------------------------------------------------------------------------------------
// the client

interface Answer { status: number; json: any }

interface Key {
  readonly key: string
  readonly kind: "account" | "project"
  readonly path: string
  readonly body: Record<string, string>
  readonly canary: boolean
  attempts: number
  /** The project id of every 201 answered under this key (one, if the key did its job). */
  readonly answers: Set<string>
  accountId?: string
  projectId?: string
  namespace?: string
  /** Why the client stopped trying: a refusal (4xx) or its deadline. */
  abandoned?: string
  /** When the first failed attempt ended (the answer was lost, or the call refused for now). */
  firstFailureAt?: number
}

interface Deletion { readonly projectId: string; attempts: number; done: boolean; abandoned?: string }

interface Counts {
  attempts: number
  /** Creates sent and not yet answered, right now. */
  creating: number
  failures: Map<string, number>
  skippedTicks: number
}

const makeClient = (baseUrl: () => string, counts: Counts) => {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const r = await fetch(baseUrl() + path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    })
    const text = await r.text()
    let json: unknown
    try { json = JSON.parse(text) } catch { json = { text } }
    return { status: r.status, json }
  }
  const failed = (what: string) => counts.failures.set(what, (counts.failures.get(what) ?? 0) + 1)
  const describe = (e: unknown) => (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError") ? "no answer in 15 s" : "connection failed")
  // The answers a retry cannot change: the request itself is wrong.
  const refusal = (status: number) => status >= 400 && status < 500 && status !== 409 && status !== 429

  /** Sends the key's POST until it is answered 201, the same key and body every time. */
  const create = async (k: Key, deadline: number) => {
    for (;;) {
      k.attempts++
      counts.attempts++
      counts.creating++
      try {
        const r = await call("POST", k.path, k.body, { "idempotency-key": k.key }).finally(() => counts.creating--)
        if (r.status === 201) {
          const project = r.json.project
          k.answers.add(project.id)
          k.projectId ??= project.id
          k.namespace ??= project.namespace
          k.accountId ??= k.kind === "account" ? r.json.account.id : project.accountId
          return
        }
        failed(`${k.kind} create ${r.status} ${r.json?.error?.code ?? ""}`.trim())
        k.firstFailureAt ??= Date.now()
        if (refusal(r.status)) { k.abandoned = `${r.status} ${JSON.stringify(r.json)}`; return }
      } catch (e) {
        failed(`${k.kind} create: ${describe(e)}`)
        k.firstFailureAt ??= Date.now()
      }
      if (Date.now() > deadline) { k.abandoned = "deadline"; return }
      await sleep(Math.min(100 * 2 ** Math.min(k.attempts, 5), 2_000))
    }
  }

  /** DELETE until it is answered 202 (a project already deleting is answered 202 as it is). */
  const remove = async (d: Deletion, deadline: number) => {
    for (;;) {
      d.attempts++
      counts.attempts++
      try {
        const r = await call("DELETE", `/v1/projects/${d.projectId}`)
        if (r.status === 202) { d.done = true; return }
        failed(`project delete ${r.status} ${r.json?.error?.code ?? ""}`.trim())
        if (refusal(r.status)) { d.abandoned = `${r.status} ${JSON.stringify(r.json)}`; return }
      } catch (e) {
        failed(`project delete: ${describe(e)}`)
      }
      if (Date.now() > deadline) { d.abandoned = "deadline"; return }
      await sleep(Math.min(100 * 2 ** Math.min(d.attempts, 5), 2_000))
    }
  }

  return { call, create, remove }
}

// ---------------------------------------------------------------------------------------------
// every managed namespace each apiserver ever held

/**
 * Watches one apiserver's managed namespaces for the whole campaign (again after every break: the
 * apiserver stopped, restarted) and records every uid seen under each name. A name with two uids
 * was created twice: deleted and brought back, or vanished and repaired.
 */
const watchNamespaces = (adminKubeconfig: string) => {
  const kc = new KubeConfig()
  kc.loadFromFile(adminKubeconfig)
  const watch = new Watch(kc)
  const uids = new Map<string, Set<string>>()
  let stopped = false
  let current: AbortController | undefined
  let restarts = 0
  const start = async (): Promise<void> => {
    if (stopped) return
    try {
      current = await watch.watch("/api/v1/namespaces", { labelSelector: `${managedByLabel}=${managedByValue}` }, (_phase, ns: V1Namespace) => {
        const name = ns.metadata?.name
        const uid = ns.metadata?.uid
        if (name && uid) uids.set(name, (uids.get(name) ?? new Set()).add(uid))
      }, () => { restarts++; setTimeout(() => void start(), 1_000) })
    } catch {
      restarts++
      setTimeout(() => void start(), 1_000)
    }
  }
  void start()
  return {
    uids,
    restarts: () => restarts,
    stop: () => { stopped = true; current?.abort() },
  }
}

// ---------------------------------------------------------------------------------------------
// the campaign

interface Ctx {
  logDir: string
  env: Record<string, string>
  engines: Record<string, string>
  rpc: SupervisedProcess
  daemons: Map<string, SupervisedProcess>
  proxy: FaultProxy
  /** Between the client and fabric rpc. */
  clientProxy: FaultProxy
  admin: Map<string, CoreV1Api>
  watches: Map<string, ReturnType<typeof watchNamespaces>>
  sql: postgres.Sql
  enginesUp: boolean
}

const campaign = suite<Ctx>("fault campaign on engines of its own")

campaign.before(async (ctx) => {
  ctx.logDir = `/tmp/fabric-faults-${new Date().toISOString().replace(/[:.]/g, "-")}`
  mkdirSync(ctx.logDir, { recursive: true })
  say(`logs in ${ctx.logDir}`)
  for (const n of slots) {
    slotHolder = await takeSlot(n)
    if (slotHolder === undefined) continue // another campaign runs in that slot now
    slot = n
    profile = `faults-${n}`
    kafkaPrefix = `faults${n}.`
    // The slot is ours, so whatever its profile still has is a killed run's.
    const leftovers = killLeftovers()
    if (leftovers > 0) say(`killed ${leftovers} Fabric processes a killed run of this suite left`)
    await infra("down")
    try {
      await infra("up")
      break
    } catch (e) {
      // ports held by something outside the slots (an older copy of this suite on profile faults)
      if (!/already in use/.test(String(e))) throw e
      say(`slot ${n}: ${String(e).split("\n").find((l) => /already in use/.test(l))}; trying the next slot`)
      await infra("down")
      slotHolder.stdin!.end()
      slotHolder = undefined
    }
  }
  if (slotHolder === undefined) throw new Error(`no free slot for a fault campaign on this machine (${slots.length} run already, or their ports are taken)`)
  say(`slot ${slot}: profile ${profile}, ports +${slot * 1000}`)
  ctx.enginesUp = true
  ctx.engines = Object.fromEntries([...(await infra("env")).matchAll(/^export ([A-Z0-9_]+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]))
  const run = ctx.engines.FABRIC_INFRA_RUN!
  say(`engines of profile ${profile} up (${ctx.engines.DATABASE_URL}, Kafka ${ctx.engines.KAFKA_BROKERS}, run dir ${run})`)

  const base = postgres(ctx.engines.DATABASE_URL!, { max: 1, onnotice: () => {} })
  await base.unsafe("create database fabric_faults")
  // The engines run with synchronous_commit = off (speed), so a crash of the server loses the
  // commits of its last fraction of a second although they were acknowledged: with (d)'s
  // immediate restart, observations whose Kafka offsets were already committed vanished and left
  // projects waiting for good. No production database loses acknowledged commits; this one must
  // not either (fsync = off stays: the machine itself does not crash, only the server).
  await base.unsafe("alter database fabric_faults set synchronous_commit = on")
  await base.end()
  const databaseUrl = ctx.engines.DATABASE_URL!.replace(/\/postgres$/, "/fabric_faults")
  ctx.sql = postgres(databaseUrl, { max: 2, onnotice: () => {} })

  const kube = (id: string, who: string) => `${run}/kube/${id}/${who}.kubeconfig`
  ctx.admin = new Map(clusters.map((id) => {
    const kc = new KubeConfig()
    kc.loadFromFile(kube(id, "admin"))
    return [id, kc.makeApiClient(CoreV1Api)]
  }))
  ctx.watches = new Map(clusters.map((id) => [id, watchNamespaces(kube(id, "admin"))]))
  const certs = `${run}/kube/c/certs`
  ctx.proxy = await startFaultProxy(apiserverOf(kube("c", "daemon")), {
    tls: { cert: readFileSync(`${certs}/apiserver.crt`), key: readFileSync(`${certs}/apiserver.key`), ca: readFileSync(`${certs}/apiserver.crt`) }, seed,
  })
  const daemonKubeconfig = { a: kube("a", "daemon"), b: kube("b", "daemon"), c: writeKubeconfigThrough(kube("c", "daemon"), ctx.proxy, `${ctx.logDir}/c-through-fault-proxy.kubeconfig`) }

  ctx.env = {
    DATABASE_URL: databaseUrl, KAFKA_BROKERS: ctx.engines.KAFKA_BROKERS!, FABRIC_KAFKA_PREFIX: kafkaPrefix, FABRIC_ADMIN_TOKEN: token,
    FABRIC_KUBECONFIGS: "", FABRIC_PARTITIONS: "3", FABRIC_PROJECT_QUOTA: "1000",
    // Deadlines sized for a loaded 2-core machine: heartbeats often enough that a restarted daemon
    // is seen again at once; a cluster is Unreachable only after a real silence (the broker's
    // restart is one); a deletion never lets a cluster go (every namespace must really be deleted);
    // drift checks often enough to matter during the campaign.
    FABRIC_HEARTBEAT_SECONDS: "2", FABRIC_UNREACHABLE_AFTER_SECONDS: "30", FABRIC_DELETION_DEADLINE_SECONDS: "3600",
    FABRIC_DRIFT_SECONDS: "15", FABRIC_OUTBOX_POLL_SECONDS: "2", FABRIC_SHUTDOWN_DRAIN_SECONDS: "5",
  }
  const rpcPort = await freePort() // fixed, so the client finds rpc again after every restart
  ctx.rpc = new SupervisedProcess("rpc", { ...ctx.env, PORT: String(rpcPort) }, ["rpc"], ctx.logDir, { onStart: recordPid })
  ctx.clientProxy = await startFaultProxy({ host: "127.0.0.1", port: rpcPort }, { seed: seed + 1 })
  await ctx.rpc.start()
  ctx.daemons = new Map(clusters.map((id) => [id, new SupervisedProcess(`daemon-${id}`, ctx.env, ["daemon", "--cluster", id, "--kubeconfig", daemonKubeconfig[id]], ctx.logDir, { onStart: recordPid })]))
  for (const daemon of ctx.daemons.values()) await daemon.start()
  say(`fabric rpc on ${ctx.rpc.url}, daemons for ${clusters.join(", ")} (c through the fault proxy on :${ctx.proxy.port})`)
})

campaign.after(async (ctx) => {
  for (const w of ctx.watches?.values() ?? []) w.stop()
  for (const daemon of ctx.daemons?.values() ?? []) await daemon.stop().catch(() => undefined)
  await ctx.rpc?.stop().catch(() => undefined)
  await ctx.proxy?.close()
  await ctx.clientProxy?.close()
  await ctx.sql?.end({ timeout: 5 }).catch(() => undefined)
  if (slot > 0) rmSync(pidFile(), { force: true })
  const release = () => slotHolder?.stdin!.end()
  if (process.env.FABRIC_FAULTS_KEEP_ENGINES === "1") {
    release()
    return say(`engines of profile ${profile} kept (FABRIC_FAULTS_KEEP_ENGINES=1); FABRIC_INFRA_PROFILE=${profile} FABRIC_INFRA_PORT_OFFSET=${slot * 1000} deploy/infra/infra.sh down stops them`)
  }
  if (ctx.enginesUp) await infra("down").catch((e) => say(`infra.sh down failed: ${e}`))
  release()
  say(`engines of profile ${profile} down; process logs kept in ${ctx.logDir}`)
})

campaign("creates and deletes under every fault: nothing lost, nothing doubled, every cluster and the legacy rows agree", async (ctx) => {
  const counts: Counts = { attempts: 0, creating: 0, failures: new Map(), skippedTicks: 0 }
  /** A create on its way, so the fault lands in the middle of one. */
  const createInFlight = () => waitFor("a create in flight", async () => (counts.creating > 0 ? true : undefined), within(60_000), 2)
  const client = makeClient(() => `http://127.0.0.1:${ctx.clientProxy.port}`, counts)
  const random = seededRandom(seed)
  const keys: Key[] = []
  const deletions = new Map<string, Deletion>()
  const runId = Date.now().toString(36)
  const opDeadline = () => Date.now() + within(240_000)

  const getProject = async (id: string) => (await client.call("GET", `/v1/projects/${id}`)).json.project as { phase: string; generation: number; clusters: Record<string, { phase: string; observedGeneration: number }> }
  const readyEverywhere = (p: Awaited<ReturnType<typeof getProject>> | undefined) =>
    p?.phase === "Ready" && clusters.every((id) => p.clusters[id]?.phase === "Ready" && p.clusters[id]?.observedGeneration === p.generation)

  // Three accounts, each made with a key of its own (and retried like the rest).
  const accounts: Key[] = []
  for (let i = 0; i < 3; i++) {
    const k: Key = { key: `faults-${runId}-account-${i}`, kind: "account", path: "/v1/accounts", body: { name: `Faults ${i}`, email: `faults${i}@campaign.test` }, canary: false, attempts: 0, answers: new Set() }
    keys.push(k)
    accounts.push(k)
    await client.create(k, opDeadline())
    assert.is(k.abandoned, undefined, `account ${i}: ${k.abandoned}`)
  }
  let next = 0
  const newProjectKey = (canary: boolean): Key => {
    const i = next++
    const account = accounts[i % accounts.length]!
    const k: Key = {
      key: `faults-${runId}-project-${i}`, kind: "project", path: `/v1/accounts/${account.accountId}/projects`,
      body: { name: `${canary ? "canary" : "campaign"} ${i}` }, canary, attempts: 0, answers: new Set(),
    }
    keys.push(k)
    return k
  }

  // The steady client: one operation every intervalMs, each retried until it is answered.
  const inFlight = new Set<Promise<void>>()
  const tick = () => {
    if (inFlight.size >= 40) { counts.skippedTicks++; return }
    const deletable = keys.filter((k) => k.kind === "project" && !k.canary && k.projectId !== undefined && !deletions.has(k.projectId))
    let op: Promise<void>
    if (deletable.length > 0 && random() < 1 / 3) {
      const victim = deletable[Math.floor(random() * deletable.length)]!
      const d: Deletion = { projectId: victim.projectId!, attempts: 0, done: false }
      deletions.set(d.projectId, d)
      op = client.remove(d, opDeadline())
    } else {
      op = client.create(newProjectKey(false), opDeadline())
    }
    inFlight.add(op)
    void op.finally(() => inFlight.delete(op))
  }
  const timer = setInterval(tick, intervalMs)

  /** A project created now is Ready in every cluster: the fault is over for Fabric too. */
  const recovered = async (label: string) => {
    const since = Date.now()
    const k = newProjectKey(true)
    await client.create(k, opDeadline())
    assert.is(k.abandoned, undefined, `${label}: canary ${k.key}: ${k.abandoned}`)
    let last: unknown
    await waitFor(() => `${label}: canary ${k.projectId} Ready in ${clusters.join(", ")} (last seen ${JSON.stringify(last)})`, async () => {
      const p = await getProject(k.projectId!)
      last = p
      return readyEverywhere(p) ? true : undefined
    }, within(300_000), 500)
    say(`${label}: recovered in ${((Date.now() - since) / 1000).toFixed(1)} s (canary ${k.projectId} Ready in ${clusters.join(", ")})`)
  }

  const faults: string[] = []
  try {
    await recovered("warm-up")

    await createInFlight()
    say(`(a) SIGKILL fabric rpc (${counts.creating} creates in flight)`)
    await ctx.rpc.sigkill()
    faults.push("rpc SIGKILLed and restarted")
    await recovered("(a)")

    for (const id of clusters) {
      say(`(b) SIGKILL daemon ${id}`)
      await ctx.daemons.get(id)!.sigkill()
      faults.push(`daemon ${id} SIGKILLed and restarted`)
      await recovered(`(b) daemon ${id}`)
    }

    say("(c) SIGKILL the Kafka broker")
    await infra("kafka-kill")
    const brokerDown = Date.now()
    await infra("kafka-up")
    faults.push(`Kafka broker SIGKILLed, back after ${((Date.now() - brokerDown) / 1000).toFixed(1)} s`)
    say("(c) broker started again")
    await recovered("(c)")

    await createInFlight()
    say(`(d) restart Postgres (immediate; ${counts.creating} creates in flight)`)
    await infra("postgres-restart", "immediate")
    faults.push("Postgres restarted (immediate)")
    await recovered("(d)")

    // (e) and (f) together: b down, c behind a proxy that fails 30% of requests, and the client's
    // own calls through a proxy that does the same (answers lost after the work was done: the
    // retries with the same key must be replays). Only a is whole meanwhile.
    say(`(e) stop apiserver b for ${outageMs / 1000} s; (f) meanwhile the proxies in front of apiserver c and of fabric rpc answer ${proxyFaultRate * 100}% of requests with 500, 503 or no answer`)
    const injected = (s: FaultStats) => s.faults["500"] + s.faults["503"] + s.faults.timeout
    const before = { apiserver: ctx.proxy.stats(), client: ctx.clientProxy.stats() }
    await infra("cluster-down", "b")
    const stoppedAt = Date.now()
    ctx.proxy.setFaultRate(proxyFaultRate)
    ctx.clientProxy.setFaultRate(proxyFaultRate)
    await sleep(outageMs) // the fault's duration
    await infra("cluster-up", "b")
    faults.push(`apiserver b stopped for ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s`)
    say("(e) apiserver b back")
    // (f) goes on until the apiserver proxy has failed at least 50 requests, so a slow machine gets its share.
    await waitFor("the apiserver proxy failing 50 requests", async () => (injected(ctx.proxy.stats()) - injected(before.apiserver) >= 50 ? true : undefined), within(240_000), 500)
    ctx.proxy.setFaultRate(0)
    ctx.clientProxy.setFaultRate(0)
    const described = (name: string, from: FaultStats, to: FaultStats) =>
      `${name} faulty for ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s: ${to.requests - from.requests} requests, ${to.faults["500"] - from.faults["500"]} answered 500 (sent on), ` +
      `${to.faults["503"] - from.faults["503"]} 503 (not sent on), ${to.faults.timeout - from.faults.timeout} never answered (sent on)`
    faults.push(described("proxy in front of apiserver c", before.apiserver, ctx.proxy.stats()))
    faults.push(described("proxy in front of fabric rpc (the client's calls)", before.client, ctx.clientProxy.stats()))
    await recovered("(e) and (f)")
  } finally {
    clearInterval(timer)
  }
  say(`client stopped; waiting for ${inFlight.size} operations in flight`)
  await Promise.all(inFlight)

  // --- the client's own view: every call answered, every key one project
  const abandoned = [...keys.filter((k) => k.abandoned), ...[...deletions.values()].filter((d) => d.abandoned)]
  assert.equal(abandoned.map((x) => ("key" in x ? `${x.key}: ${x.abandoned}` : `delete ${x.projectId}: ${x.abandoned}`)), [], "calls the client gave up on")
  for (const k of keys) assert.is(k.answers.size, 1, `${k.key} was answered with ${k.answers.size} projects: ${[...k.answers]}`)
  // Every key once more, after all the faults: the same project again, nothing new.
  for (const k of keys) {
    const r = await client.call("POST", k.path, k.body, { "idempotency-key": k.key })
    assert.is(r.status, 201, `replay of ${k.key}: ${JSON.stringify(r.json)}`)
    assert.is(r.json.project.id, k.projectId, `replay of ${k.key}`)
  }

  // --- every project where it should be, through the API
  const projects = keys.map((k) => ({ id: k.projectId!, namespace: k.namespace!, accountId: k.accountId!, deleted: deletions.has(k.projectId!), key: k.key }))
  const live = projects.filter((p) => !p.deleted)
  const deleted = projects.filter((p) => p.deleted)
  const listed = async () => {
    const all = []
    for (const account of accounts) {
      let cursor: string | undefined
      do {
        const r = await client.call("GET", `/v1/accounts/${account.accountId}/projects?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)
        if (r.status !== 200) throw new Error(`list ${r.status} ${JSON.stringify(r.json)}`)
        all.push(...(r.json.projects as Array<Awaited<ReturnType<typeof getProject>> & { id: string }>))
        cursor = r.json.nextCursor ?? undefined
      } while (cursor)
    }
    return all
  }
  let stragglers: string[] = []
  /** What each straggler's actor went through (its history rows), for the failure message. */
  const histories = async () => {
    const ids = stragglers.slice(0, 3).map((s) => s.split(" ")[0]!)
    const rows = await ctx.sql<{ actor_id: string; version: string; event: unknown; state: unknown; created_at: Date }[]>`
      select actor_id, version::text, event, state, created_at from fabric.actor_events where actor_id = any(${ids}) order by actor_id, version`
    const [snapshots] = [await ctx.sql`select actor_id, version::text, status, snapshot from fabric.actor_snapshots where actor_id = any(${ids})`]
    return [
      ...rows.map((r) => `  ${r.actor_id} v${r.version} ${r.created_at.toISOString()} ${JSON.stringify(r.event)} -> ${JSON.stringify(r.state)}`),
      ...snapshots.map((r) => `  snapshot ${r.actor_id} v${r.version} ${r.status} ${JSON.stringify(r.snapshot)}`),
    ].join("\n")
  }
  const converged = await waitFor(() => `every live project Ready and every deleted one Deleted in ${clusters.join(", ")}; not yet: ${stragglers.slice(0, 10).join("; ")} (${stragglers.length} in all)`, async () => {
    const all = await listed()
    const byId = new Map(all.map((p) => [p.id, p]))
    stragglers = []
    for (const p of projects) {
      const seen = byId.get(p.id)
      const ok = p.deleted
        ? seen?.phase === "Deleted" && clusters.every((id) => seen.clusters[id]?.phase === "Deleted")
        : readyEverywhere(seen)
      if (!ok) stragglers.push(`${p.id} ${p.deleted ? "(deleted)" : "(live)"} ${seen?.phase} ${JSON.stringify(seen?.clusters)}`)
    }
    return stragglers.length === 0 ? all : undefined
  }, within(300_000), 1_000).catch(async (e: Error) => {
    throw new Error(`${e.message}\nhistory of the first stragglers:\n${await histories().catch((h) => String(h))}`)
  })
  assert.equal(converged.map((p) => p.id).sort(), projects.map((p) => p.id).sort(), "the accounts list exactly the projects the keys made")
  const createdAt = new Map(converged.map((p) => [p.id, Date.parse((p as unknown as { createdAt: string }).createdAt)]))
  const retried = keys.filter((k) => k.firstFailureAt !== undefined)
  const replayed = retried.filter((k) => createdAt.get(k.projectId!)! < k.firstFailureAt!)
  assert.ok(replayed.length > 0, "no answer was lost after its commit: the campaign did not exercise the replay of a key")

  // --- every apiserver, read directly (not through the proxy)
  const namespaceCounts: string[] = []
  for (const id of clusters) {
    const managed: V1Namespace[] = []
    let _continue: string | undefined
    do {
      const page = await ctx.admin.get(id)!.listNamespace({ labelSelector: `${managedByLabel}=${managedByValue}`, limit: 500, _continue })
      managed.push(...page.items)
      _continue = page.metadata?._continue || undefined
    } while (_continue)
    const byProject = new Map<string, V1Namespace[]>()
    for (const ns of managed) {
      const owner = ns.metadata?.labels?.[projectLabel] ?? "(no project label)"
      byProject.set(owner, [...(byProject.get(owner) ?? []), ns])
    }
    for (const p of live) {
      const found = byProject.get(p.id) ?? []
      assert.is(found.length, 1, `${id}: project ${p.id} has ${found.length} namespaces`)
      assert.is(found[0]!.metadata?.name, p.namespace)
      assert.is(found[0]!.status?.phase, "Active", `${id}: ${p.namespace} is ${found[0]!.status?.phase}`)
    }
    for (const p of deleted) {
      assert.is(byProject.get(p.id), undefined, `${id}: deleted project ${p.id} still has a namespace`)
      assert.is(await ctx.admin.get(id)!.readNamespace({ name: p.namespace }).then(() => "present", () => "absent"), "absent", `${id}: ${p.namespace}`)
    }
    assert.is(managed.length, live.length, `${id}: managed namespaces`)
    const watched = ctx.watches.get(id)!
    const twice = [...watched.uids].filter(([, uids]) => uids.size > 1).map(([name, uids]) => `${name} (${uids.size} uids)`)
    assert.equal(twice, [], `${id}: namespaces created more than once during the campaign`)
    // (a deleted project's namespace may never have existed here: a daemon that was down took
    // its creation and deletion together and reconciled only the deletion)
    for (const p of live) assert.ok(watched.uids.has(p.namespace), `${id}: the watch never saw ${p.namespace}`)
    namespaceCounts.push(`${id} ${managed.length} (the watch saw ${watched.uids.size} created, each once; ${watched.restarts()} watch restarts)`)
  }

  // --- the legacy rows are Fabric's
  const fabricProjects = await ctx.sql<{ id: string; account_id: string; name: string; namespace: string; phase: string }[]>`select id, account_id, name, namespace, phase from fabric.projects order by id`
  const legacyProjects = await ctx.sql<{ id: string; account_id: string; name: string; namespace: string; status: string; deleted_at: Date | null }[]>`select id, account_id, name, namespace, status, deleted_at from demeter.projects order by id`
  assert.equal(fabricProjects.map((p) => p.id), projects.map((p) => p.id).sort(), "fabric.projects holds exactly the keys' projects")
  assert.equal(
    legacyProjects.map((p) => ({ id: p.id, account_id: p.account_id, name: p.name, namespace: p.namespace, status: p.status, deleted: p.deleted_at !== null })),
    fabricProjects.map((p) => ({ id: p.id, account_id: p.account_id, name: p.name, namespace: p.namespace, status: p.phase === "Deleted" ? "deleted" : "active", deleted: p.phase === "Deleted" })),
    "demeter.projects = fabric.projects",
  )
  const fabricAccounts = await ctx.sql`select id, name, email from fabric.accounts order by id`
  const legacyAccounts = await ctx.sql`select a.id, a.name, u.email from demeter.accounts a join demeter.users u on u.account_id = a.id order by a.id`
  assert.equal(legacyAccounts.map((a) => ({ ...a })), fabricAccounts.map((a) => ({ ...a })), "demeter.accounts and users = fabric.accounts")
  const audit = await ctx.sql<{ action: string; entity_id: string; n: number }[]>`select action, entity_id, count(*)::int as n from demeter.audit_log group by action, entity_id`
  const audited = (action: string) => new Map(audit.filter((a) => a.action === action).map((a) => [a.entity_id, a.n]))
  assert.equal([...audited("project.created")].sort(), projects.map((p) => [p.id, 1]).sort(), "one project.created audit row per project")
  assert.equal([...audited("project.deleted")].sort(), deleted.map((p) => [p.id, 1]).sort(), "one project.deleted audit row per deleted project")
  assert.equal([...audited("account.created")].sort(), accounts.map((a) => [a.accountId, 1]).sort(), "one account.created audit row per account")

  // --- nothing left behind on the bus
  let lastLag = ""
  await waitFor(() => `every consumer group's lag 0 and the outbox empty (last: ${lastLag})`, async () => {
    const text = await (await fetch(`${ctx.rpc.url}/metrics`)).text()
    const samples = parseExposition(text)
    const lag = samples.filter((s) => s.name === "fabric_consumer_lag_messages")
    const unsent = samples.find((s) => s.name === "fabric_outbox_unsent_messages")
    lastLag = JSON.stringify([...lag.map((s) => `${s.labels.group}/${s.labels.topic}=${s.value}`), `outbox=${unsent?.value}`])
    // every cluster's daemon group, management's and the cluster signals' must be read
    const groups = new Set(lag.map((s) => s.labels.group))
    const all = clusters.every((id) => groups.has(`fabric.daemon.${id}`)) && groups.size >= clusters.length + 2
    return all && lag.every((s) => s.value === 0) && unsent?.value === 0 ? true : undefined
  }, within(120_000), 1_000)
  const kafka = new Kafka({ clientId: "fabric-faults-check", brokers: ctx.engines.KAFKA_BROKERS!.split(","), logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  let deadLetters: number
  try {
    const offsets = await admin.fetchTopicOffsets(`${kafkaPrefix}fabric.dlq`)
    deadLetters = offsets.reduce((n, o) => n + Number(o.high), 0)
  } finally {
    await admin.disconnect()
  }
  assert.is(deadLetters, 0, "messages on the dead-letter topic")

  const unexpected = [ctx.rpc, ...ctx.daemons.values()].flatMap((p) => p.unexpectedExits.map((e) => `${p.name} exited by itself (${e.code ?? e.signal}):\n${e.tail}`))

  const retries = counts.attempts - keys.length - deletions.size
  const proxyStats = ctx.proxy.stats()
  console.log([
    "",
    "fault campaign counts:",
    ...faults.map((f) => `  fault: ${f}`),
    `  keys: ${keys.length} (${accounts.length} accounts, ${keys.length - accounts.length} projects of which ${keys.filter((k) => k.canary).length} canaries), each answered with exactly 1 project, replayed once more after the faults`,
    `  keys retried after a failed attempt: ${retried.length}, of which ${replayed.length} had been committed by the failed attempt (the answer lost; the retry was a replay)`,
    `  calls: ${counts.attempts} (${retries} retries); failed attempts by answer: ${JSON.stringify(Object.fromEntries([...counts.failures].sort()))}; ticks skipped (40 in flight): ${counts.skippedTicks}`,
    `  projects: ${projects.length}: ${live.length} live, Ready in ${clusters.join(", ")}; ${deleted.length} Deleted in ${clusters.join(", ")}`,
    `  managed namespaces per apiserver: ${namespaceCounts.join(", ")} (each live project's exactly once, no deleted one)`,
    `  legacy: demeter.projects ${legacyProjects.length} (${legacyProjects.filter((p) => p.status === "active").length} active, ${legacyProjects.filter((p) => p.status === "deleted").length} deleted) = fabric.projects ${fabricProjects.length}; demeter.accounts ${legacyAccounts.length} = fabric.accounts ${fabricAccounts.length}; audit rows: project.created ${audited("project.created").size}, project.deleted ${audited("project.deleted").size}`,
    `  consumer lag 0 on every group, outbox empty; dead letters: ${deadLetters}`,
    `  fault proxy c in all: ${proxyStats.requests} requests, ${proxyStats.faults["500"]} x 500, ${proxyStats.faults["503"]} x 503, ${proxyStats.faults.timeout} unanswered; client proxy: ${ctx.clientProxy.stats().requests} requests`,
    `  Fabric processes: exits nobody asked for: ${unexpected.length}; failed starts (retried): ${[ctx.rpc, ...ctx.daemons.values()].map((p) => `${p.name} ${p.failedStarts.length}`).join(", ")}`,
    `  duration: ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    "",
  ].join("\n"))
  assert.equal(unexpected, [], "Fabric processes that exited by themselves")
})

campaign.run()
