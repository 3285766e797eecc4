// deploy/kubernetes on a real kube-apiserver (the engines of `npm run infra:up`), as a platform
// engineer would install it: every object of the hub, migrate and member overlays applied with
// server-side apply; the daemon's ServiceAccount token from the TokenRequest API; and with only
// that token, a `fabric daemon` started from the daemon Deployment's own args and env provisions,
// repairs and deletes a project's namespace, while secrets and Deployments are 403.
//
// One cluster of the engines is shared with other suites, so everything is renamed for this run
// (what a kustomize overlay with `namespace:` and `nameSuffix:` would do): the namespace
// fabric-<run>, the ClusterRole and ClusterRoleBinding fabric-daemon-<run>; all of it is deleted
// at the end. Pods never run (no kubelet), so the processes run here, each with the env its pod
// would get (resolved from the ConfigMaps and Secrets in the apiserver), its mounted Secrets as
// files and its args; the local differences are listed in `localOverrides` and `localArgs`.
// Credentials as the manifests set them up: the secure broker of the engines (SASL_SSL, the
// rpc's user in the hub's Secret fabric-kafka, a daemon user in the member's, ACLs of this run's
// prefix only) and Postgres with verify-full against the CA in Secret fabric-database.
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import https from "node:https"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk, fabricClient, type FabricClient, type Project } from "../../rpc/client.ts"
import { isOwnedBy } from "../../src/services/cluster.ts"
import { daemonGrants, rpcGrants } from "../../src/processes/kafka-acls.ts"
import { freshDatabase, uniqueKafkaPrefix } from "../support/real-engines.ts"
import { deleteSecureRun, grantAcls, requireSecureEngines, revokeAcls, secureAdmin, type SecureEngines } from "../support/secure-engines.ts"
import type { Admin } from "kafkajs"
import { waitFor } from "../support/wait-for.ts"
import { find, objectId, overlays, renderOverlay, repoRoot, type K8sObject } from "./manifests.ts"

const run = `${Date.now().toString(36)}${process.pid.toString(36)}`
const namespace = `fabric-${run}`
const clusterId = `deploy-${run}`
const operatorToken = `deploy-test-operator-token-${run}`

// ---- a tiny apiserver client: raw JSON, so nothing in the manifests is dropped on the way -------

interface Reply { status: number; body: any; warnings: string[] }

const kubeRequest = async (kc: KubeConfig, method: string, path: string, body?: unknown, contentType = "application/json"): Promise<Reply> => {
  const url = new URL(path, kc.getCurrentCluster()!.server)
  const options: https.RequestOptions = { method, headers: { accept: "application/json", ...(body === undefined ? {} : { "content-type": contentType }) } }
  await kc.applyToHTTPSOptions(options)
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ...options, timeout: 15_000 }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (d) => (text += d))
      res.on("end", () => {
        const warning = res.headers.warning
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, warnings: warning === undefined ? [] : [warning].flat() })
      })
    })
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)))
    req.on("error", reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

const resources: Record<string, { base: string; plural: string; clusterScoped?: true }> = {
  Namespace: { base: "/api/v1", plural: "namespaces", clusterScoped: true },
  ConfigMap: { base: "/api/v1", plural: "configmaps" },
  Secret: { base: "/api/v1", plural: "secrets" },
  ServiceAccount: { base: "/api/v1", plural: "serviceaccounts" },
  Service: { base: "/api/v1", plural: "services" },
  Pod: { base: "/api/v1", plural: "pods" },
  Deployment: { base: "/apis/apps/v1", plural: "deployments" },
  Job: { base: "/apis/batch/v1", plural: "jobs" },
  PodDisruptionBudget: { base: "/apis/policy/v1", plural: "poddisruptionbudgets" },
  ClusterRole: { base: "/apis/rbac.authorization.k8s.io/v1", plural: "clusterroles", clusterScoped: true },
  ClusterRoleBinding: { base: "/apis/rbac.authorization.k8s.io/v1", plural: "clusterrolebindings", clusterScoped: true },
}

const pathOf = (o: Pick<K8sObject, "kind" | "metadata">) => {
  const r = resources[o.kind]
  if (!r) throw new Error(`the test has no API path for kind ${o.kind}: add it to 'resources'`)
  return r.clusterScoped ? `${r.base}/${r.plural}/${o.metadata.name}` : `${r.base}/namespaces/${o.metadata.namespace}/${r.plural}/${o.metadata.name}`
}

const apply = (kc: KubeConfig, o: K8sObject, dryRun = false) =>
  kubeRequest(kc, "PATCH", `${pathOf(o)}?fieldManager=fabric-test&force=true&fieldValidation=Strict${dryRun ? "&dryRun=All" : ""}`, o, "application/apply-patch+yaml")

/** The manifests as installed for this run: the renames of a kustomize overlay, and this cluster's id. */
const forRun = (o: K8sObject): K8sObject => {
  const c = structuredClone(o)
  c.metadata.labels = { ...c.metadata.labels, "fabric-test-run": run }
  if (c.kind === "Namespace") c.metadata.name = namespace
  else if (c.metadata.namespace === "fabric") c.metadata.namespace = namespace
  if (c.kind === "ClusterRole" || c.kind === "ClusterRoleBinding") c.metadata.name = `${c.metadata.name}-${run}`
  if (c.kind === "ClusterRoleBinding") {
    c.roleRef.name = `${c.roleRef.name}-${run}`
    c.subjects = c.subjects.map((s: { namespace?: string }) => (s.namespace === "fabric" ? { ...s, namespace } : s))
  }
  if (c.kind === "ConfigMap" && c.metadata.name === "fabric-member") c.data.FABRIC_CLUSTER_ID = clusterId
  // The engines' brokers have a private CA: the patch README.md tells such an operator to make.
  if (c.kind === "ConfigMap" && c.metadata.name === "fabric-config") c.data.FABRIC_KAFKA_TLS_CA_FILE = "/etc/fabric/kafka/ca.crt"
  return c
}

// ---- processes with their pod's env -------------------------------------------------------------

type Container = { args: string[]; env?: any[]; envFrom?: any[]; volumeMounts?: Array<{ name: string; mountPath: string }> }
type PodSpec = { volumes?: Array<{ name: string; secret?: { secretName: string } }> }

interface Proc { child: ChildProcess; output: () => string; line: string; exited: Promise<unknown>; stop: () => Promise<void> }

const readObject = async (admin: KubeConfig, kind: "ConfigMap" | "Secret", name: string): Promise<Record<string, string>> => {
  const r = await kubeRequest(admin, "GET", pathOf({ kind, metadata: { name, namespace } }))
  assert.is(r.status, 200, `${kind} ${name} is in the apiserver`)
  return kind === "Secret"
    ? Object.fromEntries(Object.entries(r.body.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]))
    : (r.body.data as Record<string, string>)
}

/**
 * What a container's process gets in its pod: envFrom ConfigMaps, then env (values, ConfigMap and
 * Secret keys), read from the apiserver; and each mounted Secret as files, here under `root`
 * (the only local difference: every env value naming a mount path names that directory instead).
 */
const podEnv = async (admin: KubeConfig, spec: PodSpec, container: Container, root: string): Promise<Record<string, string>> => {
  const env: Record<string, string> = {}
  for (const from of container.envFrom ?? []) Object.assign(env, await readObject(admin, "ConfigMap", from.configMapRef.name))
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef
    const value = ref === undefined ? e.value : (await readObject(admin, e.valueFrom.secretKeyRef ? "Secret" : "ConfigMap", ref.name))[ref.key]
    assert.ok(typeof value === "string", `${e.name} resolves`)
    env[e.name] = value
  }
  for (const mount of container.volumeMounts ?? []) {
    const secret = (spec.volumes ?? []).find((v) => v.name === mount.name)?.secret
    if (secret === undefined) continue
    const dir = join(root, mount.mountPath)
    mkdirSync(dir, { recursive: true })
    for (const [key, value] of Object.entries(await readObject(admin, "Secret", secret.secretName))) writeFileSync(join(dir, key), value, { mode: 0o600 })
    for (const [name, value] of Object.entries(env)) env[name] = value.replaceAll(`${mount.mountPath}/`, `${dir}/`)
  }
  return env
}

/** Kubernetes' $(VAR) expansion of args. */
const expand = (args: ReadonlyArray<string>, env: Record<string, string>) => args.map((a) => a.replace(/\$\((\w+)\)/g, (m, name: string) => env[name] ?? m))

/** Only the pod's env (and PATH): nothing leaks in from the test's own environment. */
const startProcess = (args: ReadonlyArray<string>, env: Record<string, string>, ready: RegExp, timeoutMs = 60_000): Promise<Proc> => {
  const child = spawn(process.execPath, ["src/bin/fabric.ts", ...args], { cwd: repoRoot, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fabric ${args[0]} did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs)
    child.stdout!.on("data", () => {
      const m = ready.exec(output)
      if (m) {
        clearTimeout(timer)
        resolve({ child, output: () => output, line: m[0], exited, stop: async () => { if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM"); await exited } })
      }
    })
    void exited.then((e) => { clearTimeout(timer); reject(new Error(`fabric ${args[0]} exited (${JSON.stringify(e)}):\n${output}`)) })
  })
}

// ---- the suite --------------------------------------------------------------------------------

interface Ctx {
  admin: KubeConfig
  adminCore: CoreV1Api
  daemonKubeconfig: KubeConfig
  daemonKubeconfigFile: string
  tmp: string
  objects: K8sObject[]
  engines: SecureEngines
  kafkaAdmin: Admin
  daemonUser: string
  kafkaPrefix: string
  databaseUrl: string
  dropDatabase: () => Promise<void>
  rpc?: Proc
  daemon?: Proc
  daemonMetricsUrl: string
  client: FabricClient
  projectNamespaces: string[]
}

const test = suite<Ctx>(`deploy/kubernetes on a real apiserver (namespace ${namespace}, cluster id ${clusterId})`)

test.before(async (ctx) => {
  ctx.engines = requireSecureEngines()
  const daemons = (process.env.FABRIC_KUBECONFIGS ?? "").split(",").filter(Boolean)
  const admins = (process.env.FABRIC_ADMIN_KUBECONFIGS ?? "").split(",").filter(Boolean)
  if (admins.length === 0 || admins.length !== daemons.length) throw new Error("FABRIC_KUBECONFIGS / FABRIC_ADMIN_KUBECONFIGS are not set: run `npm run infra:up`")
  // The last cluster: the one the fewest suites use (the contract suite takes the first).
  const which = admins.length - 1
  ctx.admin = new KubeConfig()
  ctx.admin.loadFromFile(admins[which]!)
  ctx.adminCore = ctx.admin.makeApiClient(CoreV1Api)
  // The apiserver URL and CA a daemon uses for this cluster, from the engines' daemon kubeconfig.
  const engineDaemon = new KubeConfig()
  engineDaemon.loadFromFile(daemons[which]!)
  assert.is(engineDaemon.getCurrentContext(), ctx.admin.getCurrentContext())
  ctx.daemonKubeconfig = engineDaemon
  ctx.tmp = mkdtempSync(join(tmpdir(), `fabric-deploy-${run}-`))
  ctx.daemonKubeconfigFile = join(ctx.tmp, "daemon.kubeconfig")
  ctx.kafkaPrefix = uniqueKafkaPrefix()
  // The member's Kafka user: the engines' daemon user of this apiserver, granted this cluster id's ACLs.
  ctx.daemonUser = `fabric-daemon-${ctx.admin.getCurrentContext()}`
  ctx.kafkaAdmin = await secureAdmin(ctx.engines, readFileSync(ctx.engines.caFile, "utf8"))
  await grantAcls(ctx.kafkaAdmin, "fabric-rpc", rpcGrants(ctx.kafkaPrefix))
  await grantAcls(ctx.kafkaAdmin, ctx.daemonUser, daemonGrants(ctx.kafkaPrefix, clusterId))
  const database = await freshDatabase()
  ctx.databaseUrl = database.url
  ctx.dropDatabase = database.drop
  ctx.projectNamespaces = []
  // hub, migrate and member share the base (namespace, fabric-config): each object once.
  const byId = new Map<string, K8sObject>()
  for (const overlay of overlays) for (const o of renderOverlay(overlay)) byId.set(objectId(o), forRun(o))
  ctx.objects = [...byId.values()]
})

const cleanUp = async (ctx: Ctx) => {
  await ctx.daemon?.stop()
  await ctx.rpc?.stop()
  ctx.daemon = ctx.rpc = undefined
  if (ctx.admin) {
    for (const name of ctx.projectNamespaces ?? []) await kubeRequest(ctx.admin, "DELETE", `/api/v1/namespaces/${name}`)
    // The namespace takes every namespaced object with it; the cluster-scoped ones go by name.
    for (const o of (ctx.objects ?? []).filter((x) => resources[x.kind]?.clusterScoped)) await kubeRequest(ctx.admin, "DELETE", pathOf(o))
  }
}

test.after(async (ctx) => {
  await cleanUp(ctx).catch((e) => console.error("cleanup:", e))
  await ctx.dropDatabase?.()
  if (ctx.kafkaAdmin) {
    await revokeAcls(ctx.kafkaAdmin, "fabric-rpc", rpcGrants(ctx.kafkaPrefix)).catch((e) => console.error("revoke:", e))
    await revokeAcls(ctx.kafkaAdmin, ctx.daemonUser, daemonGrants(ctx.kafkaPrefix, clusterId)).catch((e) => console.error("revoke:", e))
    await deleteSecureRun(ctx.kafkaAdmin, ctx.kafkaPrefix).catch(() => {})
    await ctx.kafkaAdmin.disconnect()
  }
  if (ctx.tmp) rmSync(ctx.tmp, { recursive: true, force: true })
})

test("(a) every manifest of hub, migrate and member applies with server-side apply (fieldManager fabric-test, strict field validation), twice", async (ctx) => {
  assert.equal(ctx.objects.map((o) => o.kind).sort(), [
    "ClusterRole", "ClusterRoleBinding", "ConfigMap", "ConfigMap", "Deployment", "Deployment", "Job", "Namespace",
    "PodDisruptionBudget", "Service", "ServiceAccount", "ServiceAccount",
  ])
  for (const round of [1, 2]) {
    for (const o of ctx.objects) {
      const r = await apply(ctx.admin, o)
      assert.ok(r.status === 200 || r.status === 201, `round ${round}: ${objectId(o)} -> ${r.status} ${JSON.stringify(r.body?.message)}`)
      assert.equal(r.warnings, [], `${objectId(o)}: the apiserver warned`)
      assert.is(r.body.metadata.name, o.metadata.name)
      assert.ok(r.body.metadata.managedFields.some((f: { manager: string; operation: string }) => f.manager === "fabric-test" && f.operation === "Apply"))
    }
  }
  for (const o of ctx.objects) assert.is((await kubeRequest(ctx.admin, "GET", pathOf(o))).status, 200, objectId(o))
  // What the operator creates by hand (README.md): the three Secrets, here with this run's values
  // (fabric-kafka as the hub has it; the member's is applied before the daemon starts).
  const ca = readFileSync(ctx.engines.caFile, "utf8")
  const server = new URL(ctx.engines.tlsDatabaseUrl)
  server.pathname = new URL(ctx.databaseUrl).pathname
  server.search = ""
  await applySecret(ctx, "fabric-database", { url: `${server}?sslmode=verify-full&sslrootcert=/etc/fabric/database/ca.crt`, "ca.crt": ca })
  await applySecret(ctx, "fabric-admin", { token: operatorToken })
  await applySecret(ctx, "fabric-kafka", kafkaSecret(ctx, "fabric-rpc"))
})

const applySecret = async (ctx: Ctx, name: string, stringData: Record<string, string>) => {
  const r = await apply(ctx.admin, { apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, type: "Opaque", stringData })
  assert.ok(r.status === 200 || r.status === 201, `secret ${name}: ${r.status}`)
}

/** A cluster's Secret fabric-kafka (README.md): the brokers, that cluster's Kafka user, its password, the brokers' CA. */
const kafkaSecret = (ctx: Ctx, user: string) =>
  ({ brokers: ctx.engines.brokers, username: user, password: `${ctx.engines.password(user)}\n`, "ca.crt": readFileSync(ctx.engines.caFile, "utf8") })

test("every pod template is admitted as a Pod in the namespace's enforced 'restricted' Pod Security level (a privileged one is refused)", async (ctx) => {
  const ns = find(ctx.objects, "Namespace", namespace)
  assert.is(ns.metadata.labels!["pod-security.kubernetes.io/enforce"], "restricted")
  const templates = ctx.objects.filter((o) => o.kind === "Deployment" || o.kind === "Job")
  for (const o of templates) {
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: `${o.metadata.name}-check`, namespace }, spec: o.spec.template.spec }
    const r = await apply(ctx.admin, pod, true)
    assert.is(r.status, 201, `${objectId(o)}: ${JSON.stringify(r.body?.message)}`)
  }
  // The control: the same rpc pod with privilege escalation allowed is rejected by the same check.
  const rpc = structuredClone(find(ctx.objects, "Deployment", "fabric-rpc").spec.template.spec)
  rpc.containers[0].securityContext.allowPrivilegeEscalation = true
  const bad = await apply(ctx.admin, { apiVersion: "v1", kind: "Pod", metadata: { name: "fabric-rpc-bad", namespace }, spec: rpc }, true)
  assert.is(bad.status, 403, JSON.stringify(bad.body))
  assert.match(bad.body.message, /violates PodSecurity "restricted/)
})

test("(b, c) the daemon's ServiceAccount token (TokenRequest API): namespaces yes; secrets, Deployments, patch and watch 403", async (ctx) => {
  const sa = find(ctx.objects, "ServiceAccount", "fabric-daemon")
  const tokenRequest = await ctx.adminCore.createNamespacedServiceAccountToken({
    name: sa.metadata.name, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } },
  })
  const token = tokenRequest.status?.token
  assert.ok(token, "a token")
  const cluster = ctx.daemonKubeconfig.getCurrentCluster()!
  assert.ok(cluster.caData, "the engines' daemon kubeconfig embeds its CA")
  // A kubeconfig as the pod's in-cluster config would be: this apiserver, its CA, the SA token.
  writeFileSync(ctx.daemonKubeconfigFile, [
    "apiVersion: v1", "kind: Config",
    "clusters:", `- name: ${cluster.name}`, "  cluster:", `    server: ${cluster.server}`, `    certificate-authority-data: ${cluster.caData}`,
    "users:", `- name: ${sa.metadata.name}`, "  user:", `    token: ${token}`,
    "contexts:", `- name: ${clusterId}`, "  context:", `    cluster: ${cluster.name}`, `    user: ${sa.metadata.name}`,
    `current-context: ${clusterId}`, "",
  ].join("\n"), { mode: 0o600 })
  const kc = new KubeConfig()
  kc.loadFromFile(ctx.daemonKubeconfigFile)
  ctx.daemonKubeconfig = kc

  const who = await kubeRequest(kc, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" })
  assert.is(who.body?.status?.userInfo?.username, `system:serviceaccount:${namespace}:fabric-daemon`)
  assert.is((await kubeRequest(kc, "GET", "/api/v1/namespaces?limit=1")).status, 200, "list namespaces")
  assert.is((await kubeRequest(kc, "GET", `/api/v1/namespaces/${namespace}`)).status, 200, "get a namespace")
  const forbidden: Array<[string, string, string, unknown?, string?]> = [
    ["list secrets in every namespace", "GET", "/api/v1/secrets"],
    ["list secrets in its own namespace", "GET", `/api/v1/namespaces/${namespace}/secrets`],
    ["read the Kafka secret", "GET", `/api/v1/namespaces/${namespace}/secrets/fabric-kafka`],
    ["create a Deployment", "POST", `/apis/apps/v1/namespaces/${namespace}/deployments`, {
      apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "not-allowed" },
      spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "x", image: "x" }] } } },
    }],
    ["patch a namespace", "PATCH", `/api/v1/namespaces/${namespace}`, { metadata: { labels: { x: "y" } } }, "application/merge-patch+json"],
    ["watch namespaces", "GET", "/api/v1/namespaces?watch=true&timeoutSeconds=1"],
    ["list configmaps", "GET", `/api/v1/namespaces/${namespace}/configmaps`],
  ]
  for (const [what, method, path, body, type] of forbidden) {
    const r = await kubeRequest(kc, method, path, body, type)
    assert.is(r.status, 403, `${what}: ${r.status} ${JSON.stringify(r.body?.message)}`)
  }
})

const getProject = async (client: FabricClient, id: string): Promise<Project> =>
  (await expectOk(client.v1.projects[":projectId"].$get({ param: { projectId: id } }))).project
const projectWhere = (client: FabricClient, id: string, done: (p: Project) => boolean, timeoutMs?: number) =>
  waitFor(`project ${id}`, async () => {
    const p = await getProject(client, id)
    return done(p) ? p : undefined
  }, timeoutMs)

/** Where the processes here differ from the pods: loopback and ephemeral ports, this run's Kafka prefix, faster drift and heartbeats. */
const localOverrides = (ctx: Ctx) => ({ HOST: "127.0.0.1", PORT: "0", FABRIC_KAFKA_PREFIX: ctx.kafkaPrefix, FABRIC_PARTITIONS: "3", FABRIC_DRIFT_SECONDS: "2", FABRIC_HEARTBEAT_SECONDS: "1" })
/** --in-cluster reads a pod's mounted token; here the same token comes in a kubeconfig file. */
const localArgs = (ctx: Ctx, args: ReadonlyArray<string>) =>
  args.flatMap((a) => (a === "--in-cluster" ? ["--kubeconfig", ctx.daemonKubeconfigFile] : a.startsWith("--metrics-port=") ? ["--metrics-port=0"] : [a]))

test("the migration Job's command and env migrate a fresh database", async (ctx) => {
  const job = find(ctx.objects, "Job", "fabric-migrate")
  const [container] = job.spec.template.spec.containers
  const env = await podEnv(ctx.admin, job.spec.template.spec, container, join(ctx.tmp, "migrate"))
  assert.equal(Object.keys(env), ["DATABASE_URL"])
  assert.match(env.DATABASE_URL!, /sslmode=verify-full&sslrootcert=\//)
  const once = spawnSync(process.execPath, ["src/bin/fabric.ts", ...container.args], { cwd: repoRoot, env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8", timeout: 60_000 })
  assert.is(once.status, 0, once.stderr)
  assert.match(once.stdout, /migrations applied: /)
  const again = spawnSync(process.execPath, ["src/bin/fabric.ts", ...container.args], { cwd: repoRoot, env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8", timeout: 60_000 })
  assert.is(again.status, 0, again.stderr)
  assert.match(again.stdout, /migrations: up to date/)
})

test("(b) fabric rpc and fabric daemon (the daemon on the ServiceAccount token only), started from their Deployments: probes answer, the cluster joins", async (ctx) => {
  const rpcPod = find(ctx.objects, "Deployment", "fabric-rpc").spec.template.spec
  const rpc = rpcPod.containers[0]
  const rpcEnv = await podEnv(ctx.admin, rpcPod, rpc, join(ctx.tmp, "rpc"))
  assert.is(rpcEnv.FABRIC_KAFKA_SASL_USERNAME, "fabric-rpc")
  ctx.rpc = await startProcess(expand(rpc.args, {}), { ...rpcEnv, ...localOverrides(ctx) }, /Fabric rpc is running on (http:\/\/\S+)/)
  const url = /http:\/\/\S+/.exec(ctx.rpc.line)![0]
  for (const probe of [rpc.readinessProbe, rpc.livenessProbe, rpc.startupProbe]) {
    assert.is((await fetch(`${url}${probe.httpGet.path}`)).status, 200, probe.httpGet.path)
  }
  ctx.client = fabricClient(url, operatorToken)

  // The member cluster's own Secret fabric-kafka: its daemon's Kafka user.
  await applySecret(ctx, "fabric-kafka", kafkaSecret(ctx, ctx.daemonUser))
  const daemonPod = find(ctx.objects, "Deployment", "fabric-daemon").spec.template.spec
  const daemon = daemonPod.containers[0]
  const env: Record<string, string> = { ...(await podEnv(ctx.admin, daemonPod, daemon, join(ctx.tmp, "daemon"))), ...localOverrides(ctx) }
  assert.is(env.FABRIC_KAFKA_SASL_USERNAME, ctx.daemonUser)
  assert.is(env.FABRIC_CLUSTER_ID, clusterId)
  assert.not.ok("DATABASE_URL" in env || "FABRIC_ADMIN_TOKEN" in env, "a member gets neither the database nor the operator token")
  const args = localArgs(ctx, expand(daemon.args, env))
  assert.ok(args.includes(`--cluster=${clusterId}`), args.join(" "))
  ctx.daemon = await startProcess(args, env, /Fabric daemon for cluster (\S+) is running; metrics on (http:\/\/\S+)/)
  ctx.daemonMetricsUrl = /metrics on (http:\/\/\S+)/.exec(ctx.daemon.line)![1]!
  assert.is((await fetch(new URL(daemon.livenessProbe.httpGet.path, ctx.daemonMetricsUrl))).status, 200, "the daemon's liveness probe path")
  await waitFor(`cluster ${clusterId} Active`, async () => {
    const { clusters } = await (await ctx.client.v1.clusters.$get()).json()
    return clusters.find((c) => c.id === clusterId && c.phase === "Active")
  })
})

test("(b) create a project: its namespace appears with Fabric's labels, Ready; deleted by an admin, the daemon's drift pass recreates it; deleted, it is gone, Deleted", async (ctx) => {
  const { account, project } = await expectOk(ctx.client.v1.accounts.$post({ json: { name: "Deploy Co", email: `deploy-${run}@real.test` } }))
  ctx.projectNamespaces.push(project.namespace)
  const ready = await projectWhere(ctx.client, project.id, (p) => p.phase === "Ready")
  assert.equal(Object.keys(ready.clusters), [clusterId])
  assert.is(ready.clusters[clusterId]!.phase, "Ready")
  const first = await ctx.adminCore.readNamespace({ name: project.namespace })
  assert.ok(isOwnedBy(first.metadata?.labels, project.id), JSON.stringify(first.metadata?.labels))
  assert.is(first.metadata?.labels?.["app.kubernetes.io/managed-by"], "fabric")
  assert.is(first.metadata?.annotations?.["fabric.demeter.run/account"], account.id)

  // Drift: an admin deletes the namespace; the namespace controller finishes; the daemon recreates it.
  await ctx.adminCore.deleteNamespace({ name: project.namespace })
  const recreated = await waitFor(`namespace ${project.namespace} recreated`, async () => {
    const ns = await ctx.adminCore.readNamespace({ name: project.namespace }).catch(() => undefined)
    return ns && ns.metadata?.uid !== first.metadata?.uid && ns.metadata?.deletionTimestamp === undefined ? ns : undefined
  }, 90_000, 500)
  assert.ok(isOwnedBy(recreated.metadata?.labels, project.id))
  // The drift check did it (not a replay of the desired state): its counter says so.
  const metrics = await (await fetch(ctx.daemonMetricsUrl)).text()
  assert.match(metrics, new RegExp(`^fabric_daemon_drift_repairs_total\\{[^}]*cluster="${clusterId}"[^}]*\\} [1-9]`, "m"), metrics)
  assert.is((await getProject(ctx.client, project.id)).clusters[clusterId]!.phase, "Ready")

  const r = await ctx.client.v1.projects[":projectId"].$delete({ param: { projectId: project.id } })
  assert.is(r.status, 202)
  const gone = await projectWhere(ctx.client, project.id, (p) => p.phase === "Deleted", 90_000)
  assert.is(gone.clusters[clusterId]!.phase, "Deleted")
  assert.is((await kubeRequest(ctx.admin, "GET", `/api/v1/namespaces/${project.namespace}`)).status, 404)
})

test("clean-up: the processes stop on SIGTERM with exit 0; what was applied is deleted", async (ctx) => {
  const daemon = ctx.daemon!
  const rpc = ctx.rpc!
  await cleanUp(ctx)
  assert.equal(await daemon.exited, { code: 0, signal: null }, daemon.output())
  assert.equal(await rpc.exited, { code: 0, signal: null }, rpc.output())
  for (const o of ctx.objects.filter((x) => resources[x.kind]?.clusterScoped && x.kind !== "Namespace")) {
    assert.is((await kubeRequest(ctx.admin, "GET", pathOf(o))).status, 404, objectId(o))
  }
  const ns = await kubeRequest(ctx.admin, "GET", `/api/v1/namespaces/${namespace}`)
  assert.ok(ns.status === 404 || ns.body.metadata.deletionTimestamp, `namespace ${namespace} is being deleted`)
})

test.run()
