// The fault proxy of tests/support: at rate 0 every request and answer passes through unchanged
// (TLS terminated with the upstream's certificate); at rate 1 every request is a 503 (never sent
// on), a 500 (sent on, its answer replaced) or a timeout (sent on, never answered), in the
// proportions its seeded draw gives, and each is counted.
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer as createHttpServer } from "node:http"
import { Agent, createServer, request } from "node:https"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { startFaultProxy } from "../support/fault-proxy.ts"

const dir = mkdtempSync(join(tmpdir(), "fault-proxy-"))
execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
  "-days", "1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" })
const cert = readFileSync(join(dir, "cert.pem"))
const key = readFileSync(join(dir, "key.pem"))

/** An upstream that echoes method, path and body, and records what reached it. */
const startUpstream = async () => {
  const seen: string[] = []
  const server = createServer({ cert, key }, (req, res) => {
    let body = ""
    req.on("data", (d) => (body += d))
    req.on("end", () => {
      seen.push(`${req.method} ${req.url}`)
      res.writeHead(201, { "content-type": "application/json", "x-upstream": "yes" })
      res.end(JSON.stringify({ method: req.method, path: req.url, body }))
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  return { port: (server.address() as AddressInfo).port, seen, close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections() }) }
}

interface Answer { status: number; headers: Record<string, unknown>; body: string }
const send = (port: number, agent: Agent, path: string, body: string, timeoutMs: number) =>
  new Promise<Answer | "timeout">((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "POST", ca: cert, agent, headers: { "content-type": "text/plain" } }, (res) => {
      let text = ""
      res.on("data", (d) => (text += d))
      res.on("end", () => { clearTimeout(timer); resolve({ status: res.statusCode!, headers: res.headers, body: text }) })
    })
    const timer = setTimeout(() => { req.destroy(); resolve("timeout") }, timeoutMs)
    req.on("error", (e) => { if ((e as NodeJS.ErrnoException).code !== "ECONNRESET") reject(e) })
    req.end(body)
  })

test("rate 0: every request and answer passes through unchanged, over keep-alive connections", async () => {
  const upstream = await startUpstream()
  const proxy = await startFaultProxy({ host: "127.0.0.1", port: upstream.port }, { tls: { cert, key, ca: cert }, seed: 7 })
  const agent = new Agent({ keepAlive: true, ca: cert })
  try {
    for (let i = 0; i < 20; i++) {
      const a = await send(proxy.port, agent, `/api/v1/namespaces/n${i}?x=1`, `body ${i}`, 5_000)
      assert.ok(a !== "timeout")
      assert.is(a.status, 201)
      assert.is(a.headers["x-upstream"], "yes")
      assert.equal(JSON.parse(a.body), { method: "POST", path: `/api/v1/namespaces/n${i}?x=1`, body: `body ${i}` })
    }
    assert.equal(proxy.stats(), { requests: 20, passed: 20, faults: { "500": 0, "503": 0, timeout: 0 } })
    assert.is(upstream.seen.length, 20)
  } finally {
    agent.destroy()
    await proxy.close()
    await upstream.close()
  }
})

test("rate 1: each request is a 503 (not sent on), a 500 (sent on, answer replaced) or a timeout (sent on, no answer)", async () => {
  const upstream = await startUpstream()
  const proxy = await startFaultProxy({ host: "127.0.0.1", port: upstream.port }, { tls: { cert, key, ca: cert }, seed: 7 })
  const agent = new Agent({ keepAlive: true, ca: cert })
  try {
    proxy.setFaultRate(1)
    const answers: Array<Answer | "timeout"> = []
    for (let i = 0; i < 30; i++) answers.push(await send(proxy.port, agent, `/r${i}`, "x", 300))
    const kinds = answers.map((a) => (a === "timeout" ? "timeout" : String(a.status)))
    const stats = proxy.stats()
    assert.is(stats.requests, 30)
    assert.is(stats.passed, 0)
    assert.is(kinds.filter((k) => k === "500").length, stats.faults["500"])
    assert.is(kinds.filter((k) => k === "503").length, stats.faults["503"])
    assert.is(kinds.filter((k) => k === "timeout").length, stats.faults.timeout)
    for (const kind of ["500", "503", "timeout"] as const) assert.ok(stats.faults[kind] > 0, `no ${kind} in 30 draws`)
    for (const a of answers) {
      if (a !== "timeout") assert.equal(JSON.parse(a.body).kind, "Status")
    }
    // 500s and timeouts reached the apiserver (the work was done, the answer lost); 503s did not
    assert.is(upstream.seen.length, stats.faults["500"] + stats.faults.timeout)
    proxy.setFaultRate(0)
    const after = await send(proxy.port, agent, "/after", "y", 5_000)
    assert.ok(after !== "timeout" && after.status === 201)
    assert.throws(() => proxy.setFaultRate(1.5))
  } finally {
    agent.destroy()
    await proxy.close()
    await upstream.close()
  }
})

test("plain HTTP (in front of fabric rpc): passes through, and a 500 is sent on with its answer replaced", async () => {
  const seen: string[] = []
  const upstream = createHttpServer((req, res) => { seen.push(String(req.url)); res.writeHead(201, { "x-upstream": "yes" }); res.end("made") })
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()))
  const proxy = await startFaultProxy({ host: "127.0.0.1", port: (upstream.address() as AddressInfo).port }, { seed: 3 })
  try {
    const through = await fetch(`http://127.0.0.1:${proxy.port}/one`, { method: "POST", body: "x" })
    assert.is(through.status, 201)
    assert.is(await through.text(), "made")
    proxy.setFaultRate(1)
    const kinds: string[] = []
    for (let i = 0; i < 12; i++) {
      const r = await fetch(`http://127.0.0.1:${proxy.port}/f${i}`, { method: "POST", body: "x", signal: AbortSignal.timeout(300) }).then((a) => String(a.status), () => "timeout")
      kinds.push(r)
    }
    const stats = proxy.stats()
    assert.equal(kinds.filter((k) => k === "500").length, stats.faults["500"])
    assert.equal(kinds.filter((k) => k === "timeout").length, stats.faults.timeout)
    assert.is(seen.length, 1 + stats.faults["500"] + stats.faults.timeout, "500s and timeouts reached the upstream")
  } finally {
    await proxy.close()
    await new Promise<void>((r) => { upstream.close(() => r()); upstream.closeAllConnections() })
  }
})

test.after(() => rmSync(dir, { recursive: true, force: true }))
test.run()
