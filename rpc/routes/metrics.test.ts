// GET /metrics on the embedded Fabric: Prometheus text for anyone, requests counted by route
// pattern (never by id), each cluster's reconciles, errors and drift repairs, and the gauges
// computed at scrape time (outbox, consumer lag, resident actors).
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { parseExposition, valueOf, type ParsedSample } from "../../tests/support/exposition.ts"
import { startFabric, type TestFabric } from "../../tests/support/embedded-fabric.ts"

const metrics = suite<{ fabric: TestFabric }>("GET /metrics")
const clusters = ["sim-a", "sim-b", "sim-c"]

metrics.before(async (ctx) => {
  ctx.fabric = await startFabric()
})
metrics.after(async (ctx) => ctx.fabric.stop())

const scrape = async (fabric: TestFabric) => {
  const r = await fabric.app.request("/metrics")
  assert.is(r.status, 200)
  assert.is(r.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8")
  const text = await r.text()
  return { text, samples: parseExposition(text) }
}

/** Scrapes until `done` holds for the samples, or fails with the last scrape. */
const eventually = async (fabric: TestFabric, what: string, done: (samples: ReadonlyArray<ParsedSample>) => boolean) => {
  let last = ""
  for (let i = 0; i < 200; i++) {
    const { text, samples } = await scrape(fabric)
    if (done(samples)) return samples
    last = text
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`${what} did not happen; last scrape:\n${last}`)
}

let accounts = 0
const readyAccount = async (fabric: TestFabric) => {
  const n = ++accounts
  const created = await fabric.request("POST", "/v1/accounts", { body: { name: `Metrics ${n}`, email: `metrics${n}@example.test` } })
  assert.is(created.status, 201, created.text)
  await fabric.waitForProject(created.json.project.id, (p) => p.phase === "Ready")
  return created.json as { account: { id: string }; project: { id: string } }
}

metrics("anyone may scrape; a created account counts under its route pattern and each cluster reconciled it", async ({ fabric }) => {
  const before = await scrape(fabric)
  const created = { method: "POST", route: "/v1/accounts", status: "201" }
  const { project } = await readyAccount(fabric)
  // A 404 on a path that holds an id must not carry that path into a label either.
  assert.is((await fabric.request("GET", `/v1/projects/${project.id}/no-such-thing`)).status, 404)
  const after = await scrape(fabric)

  assert.is(valueOf(after.samples, "fabric_http_requests_total", created), (valueOf(before.samples, "fabric_http_requests_total", created) ?? 0) + 1)
  assert.ok((valueOf(after.samples, "fabric_http_request_duration_seconds_count", created) ?? 0) >= 1)
  assert.ok((valueOf(after.samples, "fabric_http_requests_total", { method: "GET", route: "/v1/projects/:projectId", status: "200" }) ?? 0) >= 1)
  assert.is(valueOf(after.samples, "fabric_http_requests_total", { method: "GET", route: "unmatched", status: "404" }), 1)
  assert.not.match(after.text, /prj_|acc_/, "a project or account id leaked into the metrics")
  // Ready needs only the clusters that are reachable; a daemon that started late still catches up.
  await eventually(fabric, "a reconcile counted in every cluster", (s) =>
    clusters.every((cluster) => (valueOf(s, "fabric_daemon_reconciles_total", { cluster }) ?? 0) > 0))
})

metrics("scrape-time gauges: the outbox drains, every consumer group catches up, no actor stays in memory", async ({ fabric }) => {
  await readyAccount(fabric)
  const samples = await eventually(fabric, "outbox drained and daemons caught up", (s) =>
    valueOf(s, "fabric_outbox_unsent_messages") === 0 &&
    clusters.every((cluster) => valueOf(s, "fabric_consumer_lag_messages", { group: `fabric.daemon.${cluster}`, topic: "fabric.projects" }) === 0))
  assert.is(valueOf(samples, "fabric_outbox_oldest_unsent_age_seconds"), 0)
  assert.ok(valueOf(samples, "fabric_consumer_lag_messages", { group: "fabric.management", topic: "fabric.status" }) !== undefined)
  assert.ok(valueOf(samples, "fabric_consumer_lag_messages", { group: "fabric.management.clusters", topic: "fabric.clusters" }) !== undefined)
  // Actors were restored to apply events, and every one was passivated again.
  await eventually(fabric, "every actor passivated", (s) =>
    valueOf(s, "fabric_actors_resident", { machine: "project" }) === 0 && valueOf(s, "fabric_actors_resident", { machine: "account" }) === 0)
})

metrics("a failing cluster counts reconcile errors, and a namespace deleted by hand counts a drift repair", async ({ fabric }) => {
  const simB = fabric.states.get("sim-b")!
  const errorsBefore = valueOf((await scrape(fabric)).samples, "fabric_daemon_reconcile_errors_total", { cluster: "sim-b" }) ?? 0
  simB.failing = true
  const created = await fabric.request("POST", "/v1/accounts", { body: { name: "Flaky", email: "flaky@example.test" } })
  await fabric.waitForProject(created.json.project.id, (p) => p.clusters["sim-b"]?.phase === "Failed")
  simB.failing = false
  const project = await fabric.waitForProject(created.json.project.id, (p) => p.phase === "Ready")
  assert.ok((valueOf((await scrape(fabric)).samples, "fabric_daemon_reconcile_errors_total", { cluster: "sim-b" }) ?? 0) > errorsBefore)

  const simC = fabric.states.get("sim-c")!
  const repairsBefore = valueOf((await scrape(fabric)).samples, "fabric_daemon_drift_repairs_total", { cluster: "sim-c" }) ?? 0
  simC.namespaces.delete(project.namespace)
  await eventually(fabric, "a drift repair in sim-c", (s) => (valueOf(s, "fabric_daemon_drift_repairs_total", { cluster: "sim-c" }) ?? 0) > repairsBefore)
  assert.ok(simC.lookup(project.namespace), "the namespace was not created again")
})

metrics.run()
