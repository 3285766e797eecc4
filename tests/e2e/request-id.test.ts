// One request id finds the whole path of a change in `fabric dev`'s JSON log lines: the API call,
// the outbox publication, each daemon's namespace ensure and each published observation.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { expectOk, fabricClient } from "../../rpc/client.ts"
import { startFabricProcess } from "../support/fabric-process.ts"

const token = "request-id-operator-token-0123"
const clusters = ["sim-a", "sim-b", "sim-c"]

/** A log line: one flat JSON object (src/processes/log-format.ts). */
interface LogLine {
  readonly level: string
  readonly time: string
  readonly msg: string
  readonly requestId?: string
  readonly cluster?: string
  readonly [field: string]: unknown
}

// The start banner is for people; everything else the process writes is one JSON object a line.
const isBanner = (line: string) => line.startsWith("Fabric is running on ") || line.startsWith("  ")

const logLines = (output: string): LogLine[] =>
  output.split("\n").filter((line) => line !== "" && !isBanner(line)).map((line) => {
    try {
      return JSON.parse(line) as LogLine
    } catch {
      throw new Error(`not a JSON log line: ${line}`)
    }
  })

test("the request id of POST /v1/accounts is on the API, outbox, namespace-ensure and observation log lines", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "fabric-request-id-"))
  // The embedded default, even when the runner exported the real engines' settings (npm test).
  const fabric = await startFabricProcess({
    FABRIC_DATA_DIR: dataDir, FABRIC_ADMIN_TOKEN: token, FABRIC_CLUSTERS: clusters.join(","), DATABASE_URL: "", KAFKA_BROKERS: "", FABRIC_KUBECONFIGS: "",
  })
  try {
    const requestId = `trace-abc123-${crypto.randomUUID()}`
    const created = await fabricClient(fabric.url, token).v1.accounts.$post(
      { json: { name: "Traced", email: "traced@example.test" } }, { headers: { "x-request-id": requestId } })
    assert.is(created.status, 201)
    assert.is(created.headers.get("x-request-id"), requestId)
    const { project } = await expectOk(created)

    const complete = (lines: LogLine[]) => {
      const traced = lines.filter((l) => l.requestId === requestId)
      const find = (text: string, cluster?: string) => traced.find((l) => l.msg === text && (cluster === undefined || l.cluster === cluster))
      return {
        api: find("request answered"),
        outbox: find("outbox message published"),
        ensured: clusters.map((c) => find("namespace ensured", c)),
        observed: clusters.map((c) => find("observation published", c)),
      }
    }
    let found = complete([])
    for (let i = 0; i < 600; i++) {
      found = complete(logLines(fabric.output()))
      if (found.api && found.outbox && found.ensured.every(Boolean) && found.observed.every(Boolean)) break
      await new Promise((r) => setTimeout(r, 100))
    }
    const where = `\n${fabric.output()}`
    assert.ok(found.api, `no API log line with the request id${where}`)
    assert.equal({ method: found.api!.method, route: found.api!.route, status: found.api!.status }, { method: "POST", route: "/v1/accounts", status: "201" })
    assert.ok(found.outbox, `no outbox publication with the request id${where}`)
    assert.is(found.outbox!.key, project.id)
    clusters.forEach((cluster, i) => {
      assert.ok(found.ensured[i], `no namespace ensure in ${cluster} with the request id${where}`)
      assert.is(found.ensured[i]!.namespace, project.namespace)
      assert.ok(found.observed[i], `no observation from ${cluster} with the request id${where}`)
      assert.is(found.observed[i]!.projectId, project.id)
    })
    // Every line parsed above: the process writes flat JSON lines only (besides the start banner),
    // each opening with level, time and msg.
    for (const line of logLines(fabric.output())) assert.equal(Object.keys(line).slice(0, 3), ["level", "time", "msg"], JSON.stringify(line))
  } finally {
    await fabric.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
})

test.run()
