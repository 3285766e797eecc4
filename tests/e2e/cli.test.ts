// The `fabric` CLI against a served embedded Fabric: every command through the typed client,
// --json output that scripts can parse, and errors that say what went wrong.
import { serve, type ServerType } from "@hono/node-server"
import { spawn } from "node:child_process"
import type { AddressInfo } from "node:net"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { operatorToken, startFabric, type TestFabric } from "../support/embedded-fabric.ts"

const fabricBin = new URL("../../src/bin/fabric.ts", import.meta.url).pathname
const cli = suite<{ fabric: TestFabric; server: ServerType; url: string }>("fabric CLI")

cli.before(async (ctx) => {
  ctx.fabric = await startFabric()
  await new Promise<void>((resolve) => {
    ctx.server = serve({ fetch: ctx.fabric.app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve())
  })
  ctx.url = `http://127.0.0.1:${(ctx.server.address() as AddressInfo).port}`
})
cli.after(async (ctx) => {
  await new Promise((resolve) => ctx.server.close(resolve))
  await ctx.fabric.stop()
})

/** Runs one command as a user would (its own process); returns its exit code and what it printed. */
const run = (url: string, ...argv: string[]) =>
  new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [fabricBin, ...argv], {
      env: { ...process.env, FABRIC_URL: url, FABRIC_TOKEN: operatorToken, FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"],
    })
    let out = "", err = ""
    child.stdout.on("data", (d) => { out += d })
    child.stderr.on("data", (d) => { err += d })
    child.on("close", (code) => resolve({ code, out: out.trimEnd(), err: err.trimEnd() }))
  })

cli("account create, project create/get/list/delete and clusters answer with the API's objects", async ({ url, fabric }) => {
  const account = await run(url, "account", "create", "--name", "Cli", "--email", "cli@example.test", "--json")
  assert.is(account.code, 0, account.err)
  const created = JSON.parse(account.out)
  assert.match(created.account.id, /^acc_/)
  assert.match(created.apiKey, /^fab_/)

  const project = await run(url, "project", "create", "--account", created.account.id, "--name", "From CLI", "--json")
  assert.is(project.code, 0, project.err)
  const projectId = JSON.parse(project.out).project.id
  await fabric.waitForProject(projectId, (p) => p.phase === "Ready")

  const got = await run(url, "project", "get", projectId)
  assert.is(got.code, 0, got.err)
  assert.match(got.out, new RegExp(`${projectId}\\s+From CLI\\s+namespace prj-from-cli-\\w+\\s+Ready`))
  assert.match(got.out, /sim-a\s+Ready\s+1/)

  const list = await run(url, "project", "list", "--account", created.account.id, "--limit", "1", "--json")
  assert.is(list.code, 0, list.err)
  const page = JSON.parse(list.out)
  assert.is(page.projects.length, 1)
  assert.type(page.nextCursor, "string")
  const next = await run(url, "project", "list", "--account", created.account.id, "--cursor", page.nextCursor, "--json")
  assert.equal(JSON.parse(next.out).projects.map((p: { id: string }) => p.id).concat(page.projects.map((p: { id: string }) => p.id)).sort(),
    [created.project.id, projectId].sort())

  const deleted = await run(url, "project", "delete", projectId)
  assert.is(deleted.code, 0, deleted.err)
  assert.match(deleted.out, /^Deleting/)

  const clusters = await run(url, "clusters", "--json")
  assert.equal(JSON.parse(clusters.out).clusters.map((c: { id: string }) => c.id).sort(), ["sim-a", "sim-b", "sim-c"])
})

cli("kinds, and resource create/get/list/patch/watch/delete answer with the API's objects", async ({ url, fabric }) => {
  const kinds = await run(url, "kinds")
  assert.is(kinds.code, 0, kinds.err)
  assert.match(kinds.out, /KupoPort\s+demeter\.run\/v1alpha1\s+network,pruneUtxo\s+network,pruneUtxo,throughputTier,matchPatterns/)
  const account = JSON.parse((await run(url, "account", "create", "--name", "Ports", "--email", "ports-cli@example.test", "--json")).out)
  const projectId = account.project.id as string
  await fabric.waitForProject(projectId, (p) => p.phase === "Ready")

  const created = await run(url, "resource", "create", projectId, "--kind", "KupoPort", "--name", "indexer", "--spec", '{"network":"preprod","pruneUtxo":true}', "--json")
  assert.is(created.code, 0, created.err)
  const resourceId = JSON.parse(created.out).resource.id as string
  const watched = await run(url, "resource", "watch", projectId, resourceId, "--timeout", "60")
  assert.is(watched.code, 0, watched.err)
  assert.match(watched.out.split("\n").at(-1)!, /Ready\s+sim-a=Ready sim-b=Ready sim-c=Ready$/)

  const patched = await run(url, "resource", "patch", projectId, resourceId, "--spec", '{"throughputTier":2}')
  assert.is(patched.code, 0, patched.err)
  assert.match(patched.out, new RegExp(`${resourceId}\\s+KupoPort indexer\\s+Provisioning\\s+generation 2`))
  assert.match(patched.out, /spec \{"network":"preprod","pruneUtxo":true,"throughputTier":2\}/)
  const got = await run(url, "resource", "get", projectId, resourceId)
  assert.match(got.out, /CLUSTER\s+PHASE\s+GENERATION\s+CONDITIONS\s+REASON/)
  const list = await run(url, "resource", "list", projectId, "--json")
  assert.equal(JSON.parse(list.out).resources.map((r: { id: string }) => r.id), [resourceId])

  const bad = await run(url, "resource", "patch", projectId, resourceId, "--spec", '{"throughputTier":9}')
  assert.is(bad.code, 1)
  assert.match(bad.err, /\n  body\.spec\.throughputTier: must be at most 3/)
  const notJson = await run(url, "resource", "create", projectId, "--kind", "KupoPort", "--spec", "{network")
  assert.is(notJson.code, 1)
  assert.match(notJson.err, /--spec is not JSON/)

  const deleted = await run(url, "resource", "delete", projectId, resourceId)
  assert.is(deleted.code, 0, deleted.err)
  assert.match(deleted.out, /^Deleting/)
  const gone = await run(url, "resource", "watch", projectId, resourceId, "--timeout", "60", "--json")
  assert.is(gone.code, 0, gone.err)
  assert.is(JSON.parse(gone.out.split("\n").at(-1)!).phase, "Deleted")
})

cli("an error answer is exit 1 with the code, the message and each issue", async ({ url }) => {
  const bad = await run(url, "account", "create", "--name", "", "--email", "not-an-email")
  assert.is(bad.code, 1)
  assert.match(bad.err, /^fabric: invalid_request: /)
  assert.match(bad.err, /\n  body\.email: email must be an address/, bad.err)
  const missing = await run(url, "project", "get", "prj_aaaaaaaaaaaaaaaaaaaa")
  assert.is(missing.code, 1)
  assert.match(missing.err, /^fabric: not_found: /)
})

cli("an unreachable server says so and how to fix it", async () => {
  const r = await run("http://127.0.0.1:1", "clusters")
  assert.is(r.code, 1)
  assert.match(r.err, /cannot reach Fabric at http:\/\/127\.0\.0\.1:1: .*set FABRIC_URL/)
})

cli.run()
