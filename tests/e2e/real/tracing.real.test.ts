// One trace from the API call to every cluster and back, read from a real OpenTelemetry Collector:
// `fabric rpc` and three `fabric daemon` processes on Postgres, Kafka and three kube-apiservers
// export their spans over OTLP/HTTP to an otelcol (built from Go modules,
// deploy/infra/build-otelcol.sh) whose file exporter writes OTLP JSON; the test reads that file.
import { randomBytes } from "node:crypto"
import { KubeConfig } from "@kubernetes/client-node"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk, fabricClient, type FabricClient } from "../../../rpc/client.ts"
import { startCollector, type Collector, type ExportedSpan } from "../../support/otel-collector.ts"
import { startFabricProcess, type FabricProcess } from "../../support/fabric-process.ts"
import { freshDatabase, requireRealEngines, uniqueKafkaPrefix } from "../../support/real-engines.ts"
import { waitFor } from "../../support/wait-for.ts"

const token = "real-e2e-operator-token-0123456789"

interface Ctx {
  collector: Collector
  rpc: FabricProcess
  daemons: FabricProcess[]
  clusters: string[]
  client: FabricClient
  dropDatabase: () => Promise<void>
}

const tracing = suite<Ctx>("traces: fabric rpc + 3 fabric daemons -> OTLP -> otelcol file exporter")

tracing.before(async (ctx) => {
  const { kafkaBrokers } = requireRealEngines()
  const kubeconfigs = (process.env.FABRIC_KUBECONFIGS ?? "").split(",").filter(Boolean).slice(0, 3)
  if (kubeconfigs.length < 3) throw new Error("FABRIC_KUBECONFIGS must list 3 clusters: run `npm run infra:up`")
  ctx.collector = await startCollector()
  const database = await freshDatabase()
  ctx.dropDatabase = database.drop
  const env = {
    DATABASE_URL: database.url, KAFKA_BROKERS: kafkaBrokers, FABRIC_KAFKA_PREFIX: uniqueKafkaPrefix(),
    FABRIC_ADMIN_TOKEN: token, FABRIC_HEARTBEAT_SECONDS: "1", FABRIC_PARTITIONS: "3",
    OTEL_EXPORTER_OTLP_ENDPOINT: ctx.collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: "300",
  }
  ctx.rpc = await startFabricProcess(env, 60_000, ["rpc"])
  ctx.clusters = []
  ctx.daemons = []
  for (const path of kubeconfigs) {
    const kc = new KubeConfig()
    kc.loadFromFile(path)
    ctx.clusters.push(kc.getCurrentContext())
    ctx.daemons.push(await startFabricProcess(env, 60_000, ["daemon", "--cluster", kc.getCurrentContext(), "--kubeconfig", path]))
  }
  ctx.client = fabricClient(ctx.rpc.url, token)
  await waitFor("3 Active clusters", async () => {
    const { clusters } = await expectOk(ctx.client.v1.clusters.$get())
    return clusters.filter((c) => c.phase === "Active").length === 3 ? clusters : undefined
  })
})

tracing.after(async (ctx) => {
  for (const d of ctx.daemons ?? []) await d.stop()
  await ctx.rpc?.stop()
  await ctx.collector?.stop()
  await ctx.dropDatabase?.()
})

const hex = (bytes: number) => randomBytes(bytes).toString("hex")

const waitReady = (client: FabricClient, projectId: string) =>
  waitFor(`project ${projectId} Ready`, async () => {
    const { project } = await expectOk(client.v1.projects[":projectId"].$get({ param: { projectId } }))
    return project.phase === "Ready" ? project : undefined
  })

/** The spans of one trace, once every piece the test expects has arrived at the collector. */
const traceWith = (ctx: Ctx, traceId: string, complete: (spans: ExportedSpan[]) => boolean) =>
  waitFor(() => `trace ${traceId} to be complete; it has: ${summary(ctx.collector.spans().filter((s) => s.traceId === traceId))}`, async () => {
    const spans = ctx.collector.spans().filter((s) => s.traceId === traceId)
    return complete(spans) ? spans : undefined
  }, 30_000, 300)

const summary = (spans: ReadonlyArray<ExportedSpan>) => {
  const counts = new Map<string, number>()
  for (const s of spans) counts.set(`${s.service}:${s.name}`, (counts.get(`${s.service}:${s.name}`) ?? 0) + 1)
  return [...counts].sort().map(([k, n]) => `${k} x${n}`).join(", ") || "(nothing)"
}

const byId = (spans: ReadonlyArray<ExportedSpan>) => new Map(spans.map((s) => [s.spanId, s]))

/** The span and its ancestors, nearest first (stops where a parent is not in the trace). */
const ancestry = (span: ExportedSpan, ids: Map<string, ExportedSpan>): ExportedSpan[] => {
  const chain = [span]
  for (let p = span.parentSpanId && ids.get(span.parentSpanId); p; p = p.parentSpanId && ids.get(p.parentSpanId)) chain.push(p)
  return chain
}

/** Each daemon's handling of the project, with a Kubernetes request beneath it. */
const handledIn = (spans: ReadonlyArray<ExportedSpan>, cluster: string) => {
  const ids = byId(spans)
  const handling = spans.find((s) => s.name === "Daemon.handleDesired" && s.resource["fabric.cluster"] === cluster)
  const kube = handling && spans.find((s) => s.name === "Kubernetes.request" && ancestry(s, ids).includes(handling))
  return handling && kube ? { handling, kube } : undefined
}

tracing("one trace id runs from the API call (continuing the caller's traceparent) through the outbox, Kafka and every daemon's Kubernetes calls to management", async (ctx) => {
  const traceId = hex(16)
  const callerSpan = hex(8)
  const { project } = await expectOk(ctx.client.v1.accounts.$post(
    { json: { name: "Traced Corp", email: "ops@traced.test" } }, { headers: { traceparent: `00-${traceId}-${callerSpan}-01` } }))
  await waitReady(ctx.client, project.id)

  const spans = await traceWith(ctx, traceId, (spans) =>
    ctx.clusters.every((c) => handledIn(spans, c)) &&
    spans.filter((s) => s.name === "Observations.recordObservations").length >= 1 &&
    // Ready means all three observations were applied; each application is in the trace.
    spans.filter((s) => s.name === "Daemon.observe").length >= 3)
  console.log(`trace ${traceId}: ${spans.length} spans: ${summary(spans)}`)
  const ids = byId(spans)

  // The request: a server span of fabric-rpc, child of the caller's span.
  const http = spans.filter((s) => s.name === "POST /v1/accounts")
  assert.is(http.length, 1)
  assert.is(http[0]!.service, "fabric-rpc")
  assert.is(http[0]!.kind, 2) // SERVER
  assert.is(http[0]!.parentSpanId, callerSpan)
  assert.is(http[0]!.attributes["http.response.status_code"], 201)

  // Every other span's parent is in the trace: no piece hangs loose.
  for (const s of spans) {
    if (s === http[0]) continue
    assert.ok(s.parentSpanId && ids.has(s.parentSpanId), `${s.service}:${s.name} has parent ${s.parentSpanId}, not in the trace`)
  }
  // ... and everything descends from the request.
  for (const s of spans) assert.ok(ancestry(s, ids).includes(http[0]!), `${s.service}:${s.name} does not descend from the request`)

  // The outbox row written under the request, published by the relay (a producer span).
  const publish = spans.find((s) => s.name === "OutboxRelay.publish")
  assert.ok(publish, "no OutboxRelay.publish span")
  assert.is(publish!.service, "fabric-rpc")
  assert.is(publish!.kind, 4) // PRODUCER
  assert.ok(ancestry(publish!, ids).some((s) => s.name === "ProjectSteps.recordProject"), "the publish does not continue the step that wrote the row")

  // Each daemon continued the relay's publish, and its Kubernetes calls are spans beneath.
  for (const cluster of ctx.clusters) {
    const { handling, kube } = handledIn(spans, cluster)!
    assert.is(handling.service, "fabric-daemon")
    assert.is(handling.parentSpanId, publish!.spanId, `${cluster}'s handling is not a child of the relay's publish`)
    assert.is(handling.attributes.projectId, project.id)
    assert.is(kube.kind, 3) // CLIENT
    assert.match(String(kube.attributes.operation), project.namespace)
  }

  // Observations applied the observations in the same trace, as a child of a daemon's Daemon.observe.
  const applied = spans.filter((s) => s.name === "StatusConsumer.apply")
  assert.ok(applied.length >= 1)
  for (const a of applied) {
    assert.is(a.service, "fabric-rpc")
    assert.is(ids.get(a.parentSpanId!)!.name, "Daemon.observe")
  }
  assert.ok(spans.filter((s) => s.name === "Observations.recordObservations").every((r) => ancestry(r, ids).some((s) => s.name === "StatusConsumer.apply")))
})

tracing("without a traceparent the request span is the root of its trace, which still reaches every daemon", async (ctx) => {
  const { account } = await expectOk(ctx.client.v1.accounts.$post({ json: { name: "Root Corp", email: "ops@root.test" } }))
  const requestId = `trace-root-${hex(4)}`
  const { project } = await expectOk(ctx.client.v1.accounts[":accountId"].projects.$post(
    { param: { accountId: account.id }, json: { name: "rooted" } }, { headers: { "x-request-id": requestId } }))
  await waitReady(ctx.client, project.id)
  const root = await waitFor("the request span", async () =>
    ctx.collector.spans().find((s) => s.name === "POST /v1/accounts/:accountId/projects" && s.attributes["fabric.request_id"] === requestId))
  assert.is(root.parentSpanId, undefined)
  const spans = await traceWith(ctx, root.traceId, (spans) => ctx.clusters.every((c) => handledIn(spans, c)) && spans.some((s) => s.name === "StatusConsumer.apply"))
  const ids = byId(spans)
  for (const s of spans) assert.is(ancestry(s, ids).at(-1)!.spanId, root.spanId, `${s.service}:${s.name} does not descend from the request`)
})

tracing.run()
