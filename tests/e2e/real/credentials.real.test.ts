// Credentials and least privilege on the engines (infra.sh's secure broker and Postgres TLS):
// `fabric rpc` (SCRAM-SHA-512, password from a file) and a `fabric daemon` (SCRAM-SHA-256, on the
// listener that requires a client certificate, checking the broker's name) run on a SASL_SSL
// broker whose authorizer grants this run's prefix only what src/processes/kafka-acls.ts lists,
// and on Postgres with verify-full, and pass a flow. With the daemon's Kafka user anything more is
// refused by the broker's authorizer; a wrong password, CA, server name or client certificate is
// refused with the error that names it, for Kafka and for Postgres.
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node"
import { Context, Effect, Exit, Layer, Logger } from "effect"
import type { Admin } from "kafkajs"
import postgres from "postgres"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { layer as kafkaLayer, makeKafkaConfig } from "../../../adapters/kafka/event-bus.ts"
import { namespaced } from "../../../adapters/kafka/namespaced.ts"
import { expectOk, fabricClient, type FabricClient, type Project } from "../../../rpc/client.ts"
import { topics } from "../../../src/domain/messages.ts"
import { daemonGroup } from "../../../src/domain/topics.ts"
import { managementGroup } from "../../../src/management/status-consumer.ts"
import { daemonGrants, rpcGrants } from "../../../src/processes/kafka-acls.ts"
import { lineLogger } from "../../../src/processes/log-format.ts"
import { EventBus, EventBusUnavailable } from "../../../src/services/event-bus.ts"
import { startFabricProcess, type FabricProcess } from "../../support/fabric-process.ts"
import { freshDatabase, uniqueKafkaPrefix } from "../../support/real-engines.ts"
import { deleteSecureRun, grantAcls, requireSecureEngines, revokeAcls, secureAdmin, type SecureEngines } from "../../support/secure-engines.ts"
import { waitFor } from "../../support/wait-for.ts"

const token = "credentials-operator-token-0123456789"
const cluster = "a"
const daemonUser = `fabric-daemon-${cluster}`

interface Ctx {
  engines: SecureEngines
  prefix: string
  admin: Admin
  tmp: string
  databaseName: string
  tlsDatabaseUrl: string
  dropDatabase: () => Promise<void>
  rpcEnv: Record<string, string>
  daemonEnv: Record<string, string>
  kubeconfig: string
  apiserver: CoreV1Api
  rpc?: FabricProcess
  daemon?: FabricProcess
  client: FabricClient
  namespaces: string[]
}

const test = suite<Ctx>("credentials: SASL_SSL Kafka with ACLs and verified TLS to Postgres")

/** The same database on the TLS URL of the engines (host localhost, verify-full, the engines' CA). */
const onTls = (tlsBase: string, plainUrl: string) => {
  const url = new URL(tlsBase)
  url.pathname = new URL(plainUrl).pathname
  return url.toString()
}

test.before(async (ctx) => {
  ctx.engines = requireSecureEngines()
  const kubeconfigs = (process.env.FABRIC_KUBECONFIGS ?? "").split(",").filter(Boolean)
  const admins = (process.env.FABRIC_ADMIN_KUBECONFIGS ?? "").split(",").filter(Boolean)
  const at = kubeconfigs.findIndex((p) => p.includes(`/kube/${cluster}/`))
  if (at < 0 || !admins[at]) throw new Error(`no kubeconfig of cluster ${cluster} in FABRIC_KUBECONFIGS: run \`npm run infra:up\``)
  ctx.kubeconfig = kubeconfigs[at]!
  const kc = new KubeConfig()
  kc.loadFromFile(admins[at]!)
  ctx.apiserver = kc.makeApiClient(CoreV1Api)
  ctx.prefix = uniqueKafkaPrefix()
  ctx.namespaces = []
  ctx.tmp = mkdtempSync(join(tmpdir(), "fabric-credentials-"))
  const database = await freshDatabase()
  ctx.databaseName = new URL(database.url).pathname.slice(1)
  ctx.tlsDatabaseUrl = onTls(ctx.engines.tlsDatabaseUrl, database.url)
  ctx.dropDatabase = database.drop

  ctx.admin = await secureAdmin(ctx.engines, readFileSync(ctx.engines.caFile, "utf8"))
  await grantAcls(ctx.admin, "fabric-rpc", rpcGrants(ctx.prefix))
  await grantAcls(ctx.admin, daemonUser, daemonGrants(ctx.prefix, cluster))

  // As a Kubernetes Secret mounted as a file would hold it: with a trailing newline.
  const passwordFile = join(ctx.tmp, "rpc-password")
  writeFileSync(passwordFile, `${ctx.engines.password("fabric-rpc")}\n`, { mode: 0o600 })
  const shared = { FABRIC_KAFKA_PREFIX: ctx.prefix, FABRIC_PARTITIONS: "3", FABRIC_HEARTBEAT_SECONDS: "1", FABRIC_KAFKA_TLS: "1", FABRIC_KAFKA_TLS_CA_FILE: ctx.engines.caFile }
  ctx.rpcEnv = {
    ...shared, DATABASE_URL: ctx.tlsDatabaseUrl, FABRIC_ADMIN_TOKEN: token, KAFKA_BROKERS: ctx.engines.brokers,
    FABRIC_KAFKA_SASL_MECHANISM: "scram-sha-512", FABRIC_KAFKA_SASL_USERNAME: "fabric-rpc", FABRIC_KAFKA_SASL_PASSWORD_FILE: passwordFile,
  }
  ctx.daemonEnv = {
    ...shared, KAFKA_BROKERS: ctx.engines.mtlsBrokers,
    FABRIC_KAFKA_SASL_MECHANISM: "scram-sha-256", FABRIC_KAFKA_SASL_USERNAME: daemonUser, FABRIC_KAFKA_SASL_PASSWORD: ctx.engines.password(daemonUser),
    FABRIC_KAFKA_TLS_CERT_FILE: ctx.engines.clientCertFile, FABRIC_KAFKA_TLS_KEY_FILE: ctx.engines.clientKeyFile,
    // the broker is reached at 127.0.0.1; its certificate also names localhost
    FABRIC_KAFKA_TLS_SERVER_NAME: "localhost",
  }
})

test.after(async (ctx) => {
  await ctx.daemon?.stop()
  await ctx.rpc?.stop()
  for (const name of ctx.namespaces ?? []) await ctx.apiserver.deleteNamespace({ name }).catch(() => undefined)
  if (ctx.admin) {
    await revokeAcls(ctx.admin, "fabric-rpc", rpcGrants(ctx.prefix)).catch((e) => console.error("revoke:", e))
    await revokeAcls(ctx.admin, daemonUser, daemonGrants(ctx.prefix, cluster)).catch((e) => console.error("revoke:", e))
    await deleteSecureRun(ctx.admin, ctx.prefix).catch((e) => console.error("cleanup:", e))
    await ctx.admin.disconnect()
  }
  await ctx.dropDatabase?.()
  if (ctx.tmp) rmSync(ctx.tmp, { recursive: true, force: true })
})

const getProject = async (client: FabricClient, id: string): Promise<Project> =>
  (await expectOk(client.v1.projects[":projectId"].$get({ param: { projectId: id } }))).project

test("fabric rpc and a daemon on the SASL_SSL broker and verify-full Postgres: a project's namespace is created, Ready", async (ctx) => {
  ctx.rpc = await startFabricProcess(ctx.rpcEnv, 90_000, ["rpc"])
  ctx.client = fabricClient(ctx.rpc.url, token)
  ctx.daemon = await startFabricProcess(ctx.daemonEnv, 90_000, ["daemon", "--cluster", cluster, "--kubeconfig", ctx.kubeconfig])
  await waitFor(`cluster ${cluster} Active`, async () => {
    const { clusters } = await (await ctx.client.v1.clusters.$get()).json()
    return clusters.find((c) => c.id === cluster && c.phase === "Active")
  })
  const { project } = await expectOk(ctx.client.v1.accounts.$post({ json: { name: "Secure Co", email: "secure@real.test" } }))
  ctx.namespaces.push(project.namespace)
  const ready = await waitFor(`project ${project.id} Ready`, async () => {
    const p = await getProject(ctx.client, project.id)
    return p.phase === "Ready" ? p : undefined
  })
  assert.equal(Object.keys(ready.clusters), [cluster])
  const ns = await ctx.apiserver.readNamespace({ name: project.namespace })
  assert.is(ns.metadata?.labels?.["fabric.demeter.run/project"], project.id)
})

test("every Postgres connection of fabric rpc is TLS; a plaintext client of the same server still connects", async (ctx) => {
  const plain = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} })
  try {
    const rows = await plain<{ application_name: string; ssl: boolean }[]>`
      select a.application_name, s.ssl from pg_stat_activity a join pg_stat_ssl s using (pid) where a.datname = ${ctx.databaseName}`
    assert.ok(rows.some((r) => r.application_name === "fabric") && rows.some((r) => r.application_name === "fabric-listen"), JSON.stringify(rows))
    assert.ok(rows.every((r) => r.ssl), JSON.stringify(rows))
    const [mine] = await plain<{ ssl: boolean }[]>`select ssl from pg_stat_ssl where pid = pg_backend_pid()`
    assert.is(mine!.ssl, false)
  } finally {
    await plain.end()
  }
})

/** Fabric's own EventBus as the daemon's Kafka user, its log lines (kafkajs's included) collected. */
const asDaemonUser = <A, E>(ctx: Ctx, use: (bus: EventBus["Service"], logs: () => ReadonlyArray<Record<string, unknown>>) => Effect.Effect<A, E>) => {
  const lines: string[] = []
  const config = makeKafkaConfig({
    brokers: [ctx.engines.brokers], clientId: "fabric-credentials-test", retries: 1, joinTimeoutMs: 20_000,
    sasl: { mechanism: "scram-sha-256", username: daemonUser, password: ctx.engines.password(daemonUser) },
    tls: { ca: readFileSync(ctx.engines.caFile, "utf8") },
  })
  const bus = namespaced(ctx.prefix).pipe(Layer.provide(kafkaLayer(config)))
  return Effect.runPromise(Effect.scoped(Effect.gen(function* () {
    const service = Context.get(yield* Layer.build(bus), EventBus)
    return yield* use(service, () => lines.map((l) => JSON.parse(l) as Record<string, unknown>))
  })).pipe(Effect.provide(Logger.layer([lineLogger("json", (line) => lines.push(line))]))))
}

const refusal = <A>(effect: Effect.Effect<A, EventBusUnavailable>) =>
  Effect.exit(effect).pipe(Effect.map((exit) => {
    assert.ok(Exit.isFailure(exit), "refused")
    return String((exit as Exit.Failure<A, EventBusUnavailable>).cause.reasons.map((r) => (r._tag === "Fail" ? r.error.reason : String(r))).join("; "))
  }))

test("the daemon's Kafka user: its own grants work; producing to fabric.projects, creating a topic, reading fabric.status and another group are refused by the authorizer", async (ctx) => {
  await asDaemonUser(ctx, (bus, logs) => Effect.gen(function* () {
    // what it is granted: its group's offsets, and the desired state read in its own throw-away group
    assert.ok((yield* bus.lag(daemonGroup(cluster), topics.projects)) >= 0)
    assert.ok((yield* bus.readAll(topics.projects, daemonGroup(cluster))).length >= 1, "the project of the first test is in fabric.projects")

    const produce = yield* refusal(bus.publish(topics.projects, [{ key: "prj_forged", value: "{}" }]))
    assert.match(produce, /publish 1 message\(s\) to t\S+fabric\.projects: KafkaJSProtocolError \[TOPIC_AUTHORIZATION_FAILED\]: Not authorized to access topics/)

    const create = yield* refusal(bus.ensureTopics([{ name: "fabric.not-mine", partitions: 1, compacted: false }]))
    assert.match(create, /create topics t\S+fabric\.not-mine: KafkaJSAggregateError \[TOPIC_AUTHORIZATION_FAILED\]/)

    // kafkajs reports a refused group only as "Failed to find group coordinator"; the broker's
    // answer to FindCoordinator (kafkajs: GroupCoordinator), which names the refusal, is in the log
    const groupRefusals = () => logs().filter((l) =>
      l.level === "error" && String(l.msg).startsWith("Response GroupCoordinator") && l.error === "Not authorized to access group: Group authorization failed").length
    for (const group of [managementGroup, daemonGroup("b")]) {
      const before = groupRefusals()
      const describe = yield* refusal(bus.lag(group, topics.status))
      assert.match(describe, new RegExp(`read lag of t\\S+${group.replaceAll(".", "\\.")} on t\\S+fabric\\.status: KafkaJSGroupCoordinatorNotFound`))
      assert.ok(groupRefusals() > before, `${group}: ${JSON.stringify(logs().filter((l) => l.level !== "debug"))}`)
    }

    // Reading: joining its own (prefix-granted) group works, fetching fabric.status does not.
    yield* Effect.scoped(Effect.gen(function* () {
      yield* bus.subscribe({ group: `${daemonGroup(cluster)}.probe`, topics: [topics.status], fromBeginning: true, handle: () => Effect.void })
      yield* Effect.promise(() => waitFor("the consumer of fabric.status to be refused", async () =>
        logs().find((l) => String(l.msg).startsWith("Kafka consumer crashed and stopped") && /TOPIC_AUTHORIZATION_FAILED|Topic authorization failed/.test(String(l.msg))), 30_000))
    }))
  }))
})

const failedStart = async (env: Record<string, string>, args: ReadonlyArray<string>): Promise<string> => {
  const started = await startFabricProcess(env, 90_000, args).then((p) => p, (e: Error) => e)
  if (!(started instanceof Error)) {
    await started.stop()
    assert.unreachable(`fabric ${args[0]} started, but should have been refused:\n${started.output()}`)
  }
  return (started as Error).message
}

const daemonArgs = (ctx: Ctx) => ["daemon", "--cluster", cluster, "--kubeconfig", ctx.kubeconfig]

test("Kafka: a wrong password is an authentication error; the fabric daemon does not start", async (ctx) => {
  const out = await failedStart({ ...ctx.daemonEnv, FABRIC_KAFKA_SASL_PASSWORD: "not-the-password" }, daemonArgs(ctx))
  assert.match(out, /exited \(1\)/)
  assert.match(out, /fabric: EventBusUnavailable: connect \w+: KafkaJSSASLAuthenticationError: SASL SCRAM SHA256 authentication failed: .*invalid credentials/)
})

test("Kafka: a CA that did not sign the broker's certificate, or a server name it does not carry, is a TLS error", async (ctx) => {
  const wrongCa = await failedStart({ ...ctx.daemonEnv, FABRIC_KAFKA_TLS_CA_FILE: ctx.engines.otherCaFile }, daemonArgs(ctx))
  assert.match(wrongCa, /fabric: EventBusUnavailable: connect \w+: .*KafkaJSConnectionError \[SELF_SIGNED_CERT_IN_CHAIN\]: Connection error: self-signed certificate in certificate chain/)
  const wrongName = await failedStart({ ...ctx.daemonEnv, FABRIC_KAFKA_TLS_SERVER_NAME: "kafka.elsewhere.test" }, daemonArgs(ctx))
  assert.match(wrongName, /KafkaJSConnectionError \[ERR_TLS_CERT_ALTNAME_INVALID\]: Connection error: Hostname\/IP does not match certificate's altnames: Host: kafka\.elsewhere\.test/)
})

test("Kafka, the listener that requires a client certificate: one from another CA, or none, is refused in the TLS handshake", async (ctx) => {
  const otherCert = await failedStart({ ...ctx.daemonEnv, FABRIC_KAFKA_TLS_CERT_FILE: ctx.engines.otherClientCertFile, FABRIC_KAFKA_TLS_KEY_FILE: ctx.engines.otherClientKeyFile }, daemonArgs(ctx))
  assert.match(otherCert, /KafkaJSConnectionError \[ERR_SSL_SSL\/TLS_ALERT_CERTIFICATE_UNKNOWN\]: Connection error: .*alert certificate unknown/)
  const { FABRIC_KAFKA_TLS_CERT_FILE: _cert, FABRIC_KAFKA_TLS_KEY_FILE: _key, ...noCert } = ctx.daemonEnv
  const none = await failedStart(noCert, daemonArgs(ctx))
  assert.match(none, /KafkaJSConnectionError \[ERR_SSL_SSL\/TLS_ALERT_BAD_CERTIFICATE\]: Connection error: .*alert bad certificate/)
})

const migrate = (databaseUrl: string) =>
  spawnSync(process.execPath, ["src/bin/fabric.ts", "migrate"], { cwd: new URL("../../..", import.meta.url).pathname, encoding: "utf8", timeout: 60_000, env: { ...process.env, DATABASE_URL: databaseUrl } })

test("Postgres: verify-full with another CA, or to a host name the certificate does not carry, is a TLS error; verify-ca does not check the name", (ctx) => {
  const otherCa = new URL(ctx.tlsDatabaseUrl)
  otherCa.searchParams.set("sslrootcert", ctx.engines.otherCaFile)
  const wrongCa = migrate(otherCa.toString())
  assert.is(wrongCa.status, 1, wrongCa.stderr)
  assert.match(wrongCa.stderr, /fabric: migrate: unable to verify the first certificate.* \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/)

  // The server's certificate names localhost; 127.0.0.1 is the same server under a name it does not carry.
  const byAddress = new URL(ctx.tlsDatabaseUrl)
  byAddress.hostname = "127.0.0.1"
  const wrongHost = migrate(byAddress.toString())
  assert.is(wrongHost.status, 1, wrongHost.stderr)
  assert.match(wrongHost.stderr, /fabric: migrate: Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1 is not in the cert's list.*\(ERR_TLS_CERT_ALTNAME_INVALID\)/)

  byAddress.searchParams.set("sslmode", "verify-ca")
  const caOnly = migrate(byAddress.toString())
  assert.is(caOnly.status, 0, caOnly.stderr)
  assert.match(caOnly.stdout, /migrations: up to date/)
})

test.run()
