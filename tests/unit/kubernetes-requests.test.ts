// The live Cluster layer's request policy (retries, timeouts, rate limit, error classification,
// paging, connection reuse) against a scripted stand-in apiserver on loopback, where failures can
// be produced on demand. Namespace semantics are covered against real apiservers by the contract.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Cause, Effect, Exit } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { layer, type KubernetesClusterConfig } from "../../adapters/kubernetes/cluster.ts"
import { Cluster, ClusterRefused, ClusterUnavailable, type ManagedNamespace } from "../../src/services/cluster.ts"

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void

const status = (res: ServerResponse, code: number, reason: string, message: string) => {
  res.writeHead(code, { "content-type": "application/json" })
  res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message }))
}
const json = (res: ServerResponse, code: number, body: unknown) => {
  res.writeHead(code, { "content-type": "application/json" })
  res.end(JSON.stringify(body))
}

/** A stand-in apiserver answering each request with the next scripted handler (the last repeats). */
const fakeApiserver = async (...script: Handler[]) => {
  const seen: string[] = []
  const sockets = new Set<string>()
  const server = createServer(async (req, res) => {
    let body = ""
    for await (const chunk of req) body += chunk
    seen.push(`${req.method} ${req.url}`)
    sockets.add(`${req.socket.remotePort}`)
    const handler = script[Math.min(seen.length - 1, script.length - 1)]!
    handler(req, res, body)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    seen,
    sockets,
    config: (overrides: Partial<KubernetesClusterConfig> = {}): KubernetesClusterConfig => ({
      id: "fake",
      kubeconfig: {
        kind: "options",
        options: {
          clusters: [{ name: "fake", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
          users: [{ name: "daemon", token: "t" }],
          contexts: [{ name: "fake", cluster: "fake", user: "daemon" }],
          currentContext: "fake",
        },
      },
      retry: { maxRetries: 3, baseDelayMs: 5, maxDelayMs: 20 },
      requestTimeoutMs: 2_000,
      ...overrides,
    }),
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const ns: ManagedNamespace = { name: "prj-shop-abc123", projectId: "prj_shop", accountId: "acc_1", generation: 1 }
const namespaceObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: ns.name, uid: "u1" }, status: { phase: "Active" } }
const emptyList = { apiVersion: "v1", kind: "NamespaceList", metadata: {}, items: [] }

const runWith = <A, E>(config: KubernetesClusterConfig, use: (c: Cluster["Service"]) => Effect.Effect<A, E>) =>
  Effect.runPromiseExit(
    Effect.gen(function* () {
      return yield* use(yield* Cluster)
    }).pipe(Effect.provide(layer(config))),
  )

/** The reason of the expected failure: an outage (ClusterUnavailable) unless told it is a refusal. */
const reasonOf = (exit: Exit.Exit<unknown, unknown>, expected: typeof ClusterUnavailable | typeof ClusterRefused = ClusterUnavailable): string => {
  if (Exit.isSuccess(exit)) return assert.unreachable(`expected ${expected.name}, got ${JSON.stringify(exit.value)}`) as never
  const error = Cause.findErrorOption(exit.cause)
  if (error._tag === "None" || !(error.value instanceof expected)) {
    return assert.unreachable(`expected ${expected.name}, got ${Cause.pretty(exit.cause)}`) as never
  }
  return error.value.reason
}

test("503 answers are retried until the apiserver recovers", async () => {
  const api = await fakeApiserver(
    (_, res) => status(res, 503, "ServiceUnavailable", "etcd leader changed"),
    (_, res) => status(res, 503, "ServiceUnavailable", "etcd leader changed"),
    (_, res) => json(res, 201, namespaceObject),
  )
  const exit = await runWith(api.config(), (c) => c.ensureNamespace(ns))
  await api.close()
  assert.equal(exit, Exit.succeed("created"))
  assert.equal(api.seen, Array(3).fill("POST /api/v1/namespaces"))
})

test("403 Forbidden is not retried and says Forbidden with the apiserver's message", async () => {
  const message = 'namespaces is forbidden: User "fabric-daemon" cannot create resource "namespaces" in API group "" at the cluster scope'
  const api = await fakeApiserver((_, res) => status(res, 403, "Forbidden", message))
  const reason = reasonOf(await runWith(api.config(), (c) => c.ensureNamespace(ns)), ClusterRefused)
  await api.close()
  assert.is(api.seen.length, 1, "sent once")
  assert.match(reason, "Forbidden (HTTP 403)")
  assert.match(reason, message)
  assert.match(reason, "not retried")
})

test("429 is retried a bounded number of times, then ClusterUnavailable says how many", async () => {
  const api = await fakeApiserver((_, res) => status(res, 429, "TooManyRequests", "too many requests"))
  const reason = reasonOf(await runWith(api.config({ retry: { maxRetries: 2, baseDelayMs: 5, maxDelayMs: 10 } }), (c) => c.listManaged()))
  await api.close()
  assert.is(api.seen.length, 3, "first attempt + 2 retries")
  assert.match(reason, "TooManyRequests (HTTP 429)")
  assert.match(reason, "gave up after 3 attempts")
})

test("a request that gets no answer times out, is aborted and retried", async () => {
  let aborted = 0
  const api = await fakeApiserver((req) => req.socket.on("close", () => aborted++)) // never answers
  const started = Date.now()
  const reason = reasonOf(await runWith(api.config({ requestTimeoutMs: 100, retry: { maxRetries: 1, baseDelayMs: 5, maxDelayMs: 5 } }), (c) => c.listManaged()))
  const elapsed = Date.now() - started
  await new Promise((r) => setTimeout(r, 50))
  await api.close()
  assert.is(api.seen.length, 2)
  assert.match(reason, "Timeout")
  assert.match(reason, "gave up after 2 attempts")
  assert.ok(elapsed >= 200, `each of the 2 attempts waited its 100 ms timeout; took ${elapsed} ms`)
  assert.ok(aborted >= 2, "the client closed each timed-out request")
})

test("the rate limit spaces requests at qps once the burst is spent", async () => {
  const api = await fakeApiserver((_, res) => json(res, 200, emptyList))
  const started = Date.now()
  const exit = await runWith(api.config({ qps: 20, burst: 2 }), (c) =>
    Effect.forEach(Array.from({ length: 6 }), () => c.listManaged(), { concurrency: "unbounded" }),
  )
  const elapsed = Date.now() - started
  await api.close()
  assert.ok(Exit.isSuccess(exit))
  assert.is(api.seen.length, 6)
  // 2 at once, then 4 more at 50 ms intervals: the last one leaves at ~200 ms
  assert.ok(elapsed >= 190, `6 requests at qps 20 / burst 2 took only ${elapsed} ms`)
})

test("listManaged follows continue tokens with Fabric's label selector", async () => {
  const item = (name: string) => ({
    metadata: {
      name,
      labels: { "app.kubernetes.io/managed-by": "fabric", "fabric.demeter.run/project": `p-${name}` },
      annotations: { "fabric.demeter.run/account": "acc_1", "fabric.demeter.run/generation": "2" },
    },
  })
  const api = await fakeApiserver(
    (_, res) => json(res, 200, { kind: "NamespaceList", metadata: { _continue: "t1", continue: "t1" }, items: [item("a"), item("b")] }),
    (_, res) => json(res, 200, { kind: "NamespaceList", metadata: {}, items: [item("c")] }),
  )
  const exit = await runWith(api.config({ pageSize: 2 }), (c) => c.listManaged())
  await api.close()
  assert.ok(Exit.isSuccess(exit))
  assert.equal(exit.value.map((m) => m.name), ["a", "b", "c"])
  assert.equal(exit.value[2], { name: "c", projectId: "p-c", accountId: "acc_1", generation: 2 })
  const urls = api.seen.map((s) => new URL(s.split(" ")[1]!, "http://x"))
  assert.equal(urls.map((u) => u.searchParams.get("labelSelector")), ["app.kubernetes.io/managed-by=fabric", "app.kubernetes.io/managed-by=fabric"])
  assert.equal(urls.map((u) => u.searchParams.get("limit")), ["2", "2"])
  assert.equal(urls.map((u) => u.searchParams.get("continue")), [null, "t1"])
})

test("requests reuse keep-alive connections instead of one connection each", async () => {
  // client-node alone opens a new connection (and TLS handshake) per request; see requests.ts.
  const api = await fakeApiserver((_, res) => json(res, 200, emptyList))
  const exit = await runWith(api.config(), (c) => Effect.forEach(Array.from({ length: 10 }), () => c.listManaged()))
  await api.close()
  assert.ok(Exit.isSuccess(exit))
  assert.is(api.seen.length, 10)
  // undici hands a socket back to its pool a tick after the response, so two may alternate
  assert.ok(api.sockets.size <= 2, `10 sequential requests used ${api.sockets.size} connections`)
})

test("an AlreadyExists namespace that is Terminating is not success", async () => {
  const api = await fakeApiserver(
    (_, res) => status(res, 409, "AlreadyExists", `object is being deleted: namespaces "${ns.name}" already exists`),
    (_, res) =>
      json(res, 200, {
        ...namespaceObject,
        metadata: { ...namespaceObject.metadata, labels: { "app.kubernetes.io/managed-by": "fabric", "fabric.demeter.run/project": ns.projectId }, deletionTimestamp: "2026-11-01T00:00:00Z" },
        status: { phase: "Terminating" },
      }),
  )
  const reason = reasonOf(await runWith(api.config(), (c) => c.ensureNamespace(ns)))
  await api.close()
  assert.match(reason, /Terminating/)
  assert.equal(api.seen, ["POST /api/v1/namespaces", `GET /api/v1/namespaces/${ns.name}`])
})

test("a namespace whose deletion finishes between AlreadyExists and the read is created again", async () => {
  const api = await fakeApiserver(
    (_, res) => status(res, 409, "AlreadyExists", `object is being deleted: namespaces "${ns.name}" already exists`),
    (_, res) => status(res, 404, "NotFound", `namespaces "${ns.name}" not found`),
    (_, res) => json(res, 201, namespaceObject),
  )
  const exit = await runWith(api.config(), (c) => c.ensureNamespace(ns))
  await api.close()
  assert.equal(exit, Exit.succeed("created"))
  assert.equal(api.seen, ["POST /api/v1/namespaces", `GET /api/v1/namespaces/${ns.name}`, "POST /api/v1/namespaces"])
})

test.run()
