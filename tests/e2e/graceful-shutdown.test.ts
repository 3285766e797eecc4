// Graceful shutdown of `fabric dev` (a real child process): SIGTERM with 50 creates in flight.
// Every request gets an answer (none dropped): what arrived before the stop is finished (201),
// what arrives after it is a clean 503 with Retry-After (/readyz included); an SSE watch ends
// with the final `shutdown` event; the process exits 0; and after a restart every 201 is there.
import { mkdtempSync, rmSync } from "node:fs"
import { request as httpRequest } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { sseEvents } from "../../src/cli/watch.ts"
import { expectOk, fabricClient, FabricApiError } from "../../rpc/client.ts"
import { startFabricProcess } from "../support/fabric-process.ts"
import { bodyOrRefusal } from "../support/typed-api.ts"

const token = "shutdown-test-operator-token-01"
const shutdown = suite("graceful shutdown")
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A drain's clean refusal: 503 unavailable, with Retry-After. */
const isCleanRefusal = (answer: unknown) =>
  answer instanceof FabricApiError && answer.status === 503 && answer.body?.error.code === "unavailable" && answer.headers.get("retry-after") === "1"

/** A create whose body is sent in two halves (raw: the typed client sends a body at once): in flight (headers read) until `finish` is called. */
const slowCreate = (url: string, accountId: string, name: string) => {
  const body = JSON.stringify({ name })
  let finish = () => {}
  const answer = new Promise<{ status: number; json: any }>((resolve, reject) => {
    const req = httpRequest(`${url}/v1/accounts/${accountId}/projects`, {
      method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
    }, (res) => {
      let text = ""
      res.on("data", (d) => (text += d))
      res.on("end", () => resolve({ status: res.statusCode!, json: JSON.parse(text) }))
    })
    req.on("error", reject)
    req.flushHeaders()
    req.write(body.slice(0, 5))
    finish = () => req.end(body.slice(5))
  })
  return { answer, finish: () => finish() }
}

const waitForOutput = async (output: () => string, pattern: RegExp, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs
  while (!pattern.test(output())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in the output:\n${output()}`)
    await sleep(10)
  }
}

shutdown("SIGTERM with 50 creates in flight: none dropped, late ones 503 + Retry-After, the watch gets its final event, exit 0, every 201 kept", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "fabric-shutdown-"))
  // The embedded default, even when the runner exported the real engines' settings (npm test).
  const env = {
    FABRIC_DATA_DIR: dataDir, FABRIC_ADMIN_TOKEN: token, FABRIC_CLUSTERS: "sim-a", FABRIC_PROJECT_QUOTA: "100",
    FABRIC_SHUTDOWN_DRAIN_SECONDS: "20", DATABASE_URL: "", KAFKA_BROKERS: "", FABRIC_KUBECONFIGS: "",
  }
  try {
    const first = await startFabricProcess(env)
    const client = fabricClient(first.url, token)
    const account = await expectOk(client.v1.accounts.$post({ json: { name: "Drain Co", email: "drain@example.test" } }))
    const accountId = account.account.id
    const defaultProject = account.project.id
    const create = (name: string) => bodyOrRefusal(client.v1.accounts[":accountId"].projects.$post({ param: { accountId }, json: { name } }))

    // A watch that is open when the stop begins.
    const watch = await client.v1.projects[":projectId"].watch.$get({ param: { projectId: defaultProject } })
    assert.is(watch.status, 200)
    const events = sseEvents(watch.body!)
    assert.is((await events.next()).value?.event, "project")

    // One request held in flight (its body half sent) keeps the drain open for the checks below.
    const slow = slowCreate(first.url, accountId, "Slow body")
    await sleep(300)
    const creates = Array.from({ length: 50 }, (_, i) => create(`In flight ${i}`))
    const settled = Promise.allSettled(creates)
    await Promise.race(creates)
    await sleep(100)

    first.child.kill("SIGTERM")
    await waitForOutput(first.output, /received SIGTERM/)
    // Arrived after the stop began: refused cleanly, nothing done.
    assert.ok(isCleanRefusal(await bodyOrRefusal(client.readyz.$get())), "/readyz while stopping")
    const late = await create("Too late")
    assert.ok(isCleanRefusal(late), `a create after the stop began: ${String(late)}`)

    // The watch ends with the final event, then the stream closes.
    const rest: Array<{ event: string; data: string }> = []
    for await (const e of { [Symbol.asyncIterator]: () => events }) rest.push(e)
    assert.is(rest.at(-1)?.event, "shutdown", JSON.stringify(rest))
    assert.match(JSON.parse(rest.at(-1)!.data).reason, /shutting down/)

    slow.finish()
    const slowAnswer = await slow.answer
    assert.is(slowAnswer.status, 201, JSON.stringify(slowAnswer.json))

    const outcomes = await settled
    const dropped = outcomes.filter((o) => o.status === "rejected")
    assert.is(dropped.length, 0, `requests without an answer: ${dropped.map((o) => String((o as PromiseRejectedResult).reason)).join("; ")}`)
    const answers = outcomes.map((o) => (o as PromiseFulfilledResult<Awaited<(typeof creates)[number]>>).value)
    for (const a of answers) assert.ok(!(a instanceof FabricApiError) || isCleanRefusal(a), `unexpected answer ${String(a)}`)
    // Each of the 50 is answered: 201 if it reached the server before the stop began, else a clean
    // 503 (on a loaded machine some are still on their way when the signal lands). The slow create
    // above is the one certainly in flight, and it finished.
    const created = answers.flatMap((a) => (a instanceof FabricApiError ? [] : [a.project.id]))
    const refused = answers.map((a, i) => (a instanceof FabricApiError ? `In flight ${i}` : undefined)).filter((n) => n !== undefined)
    assert.ok(created.length > 0, "the creates answered before the signal are among the 201s")
    assert.is(created.length + refused.length, 50)

    const exit = await Promise.race([first.exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000).unref())])
    assert.equal(exit, { code: 0, signal: null }, first.output())
    assert.match(first.output(), /"msg":"shut down"/)

    // After a restart, every 201 is in the database, and the refused create is not.
    const second = await startFabricProcess(env)
    try {
      const listed = await expectOk(fabricClient(second.url, token).v1.accounts[":accountId"].projects.$get({ param: { accountId }, query: { limit: "100" } }))
      const ids = new Set<string>(listed.projects.map((p) => p.id))
      for (const id of [...created, slowAnswer.json.project.id, defaultProject]) assert.ok(ids.has(id), `${id} answered 201 but is not listed`)
      assert.is(ids.size, created.length + 2)
      // What was refused was not done: neither the late create nor any refused in-flight one exists.
      const names = new Set(listed.projects.map((p) => p.name))
      for (const name of ["Too late", ...refused]) assert.not.ok(names.has(name), `${name} was refused but exists`)
    } finally {
      await second.stop()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
})

shutdown.run()
