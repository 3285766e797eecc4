// An HTTP(S) proxy that answers a share of the requests with faults, for the fault campaign
// (tests/e2e/real/faults.real.test.ts): in front of a kube-apiserver, or of `fabric rpc` (the
// client's side of the network). Unlike the latency proxy (a TCP relay), it speaks HTTP, so it can
// answer each request on its own; in front of an apiserver it terminates TLS with the apiserver's
// own certificate and key, so a kubeconfig that points at it (writeKubeconfigThrough) keeps the
// same CA and token. While the fault rate is above 0, each request is, with that probability,
// one of three faults, drawn evenly from a seeded generator (a run can be replayed):
//   503      refused up front, never sent on (an overloaded load balancer)
//   500      sent on, the apiserver does the work, its answer replaced by a 500 (the answer lost)
//   timeout  sent on, the apiserver does the work, and no answer ever comes back: the request
//            hangs until the client gives up (the daemon's per-attempt timeout)
// Every other request goes through unchanged. The faults are Kubernetes Status objects, as the
// apiserver's own 500 and 503 are.
import * as http from "node:http"
import * as https from "node:https"
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http"
import { listenOnLoopback } from "./ports.ts"

export type Fault = "500" | "503" | "timeout"
const faults: ReadonlyArray<Fault> = ["500", "503", "timeout"]

export interface FaultStats {
  readonly requests: number
  readonly passed: number
  readonly faults: Readonly<Record<Fault, number>>
}

export interface FaultProxy {
  readonly port: number
  /** From now on, each request is a fault with this probability (0 to 1). */
  readonly setFaultRate: (rate: number) => void
  readonly stats: () => FaultStats
  /** Closes the listener and every connection through it (hung requests included). */
  readonly close: () => Promise<void>
}

export interface FaultProxyOptions {
  /** The upstream's TLS: the proxy serves `cert` and `key`, and trusts `ca` upstream. Without it, plain HTTP. */
  readonly tls?: {
    readonly cert: string | Buffer
    readonly key: string | Buffer
    readonly ca: string | Buffer
  }
  readonly seed?: number
}

/** mulberry32: a small seeded generator, uniform on [0, 1). */
export const seededRandom = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const hopByHop = new Set(["connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te", "trailer"])
const endToEnd = (headers: IncomingHttpHeaders) => Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHop.has(name)))

const status = (res: ServerResponse, code: number, reason: string) => {
  const body = JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `fault proxy: injected ${code}`, reason, code })
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
  res.end(body)
}

export const startFaultProxy = async (target: { readonly host: string; readonly port: number }, options: FaultProxyOptions = {}): Promise<FaultProxy> => {
  const random = seededRandom(options.seed ?? 1)
  const tls = options.tls
  const agent = tls ? new https.Agent({ keepAlive: true, ca: tls.ca }) : new http.Agent({ keepAlive: true })
  const request = tls ? https.request : http.request
  let rate = 0
  let requests = 0
  let passed = 0
  const counts: Record<Fault, number> = { "500": 0, "503": 0, timeout: 0 }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    requests++
    const fault = rate > 0 && random() < rate ? faults[Math.floor(random() * faults.length)]! : undefined
    if (fault !== undefined) counts[fault]++
    else passed++
    if (fault === "503") {
      req.resume()
      req.on("end", () => status(res, 503, "ServiceUnavailable"))
      return
    }
    const upstream = request({ host: target.host, port: target.port, method: req.method, path: req.url, headers: endToEnd(req.headers), agent }, (answer: IncomingMessage) => {
      if (fault === "500") {
        answer.resume()
        answer.on("end", () => status(res, 500, "InternalError"))
      } else if (fault === "timeout") {
        answer.resume() // the work is done; the client hears nothing until it gives up
      } else {
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers))
        answer.pipe(res)
      }
    })
    // The apiserver unreachable (stopped, restarting): a 502, as a real proxy answers.
    upstream.on("error", () => {
      if (!res.headersSent) status(res, 502, "BadGateway")
      else res.destroy()
    })
    // the client gave up (or the proxy closed) before the answer was through
    res.on("close", () => { if (!res.writableFinished) upstream.destroy() })
    req.pipe(upstream)
  }
  const server: http.Server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handle) : http.createServer(handle)
  return {
    port: await listenOnLoopback(server, "fault proxy"),
    setFaultRate: (r) => {
      if (!(r >= 0 && r <= 1)) throw new Error(`fault rate ${r} is not from 0 to 1`)
      rate = r
    },
    stats: () => ({ requests, passed, faults: { ...counts } }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
        agent.destroy()
      }),
  }
}
