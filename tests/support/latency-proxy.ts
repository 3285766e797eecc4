// A TCP proxy that puts network latency in front of a server (a kube-apiserver): every chunk is
// held for `delayMs` in each direction and passed on in the order it came, so TLS and HTTP/1.1
// keep-alive work through it unchanged. A kubeconfig pointing at the proxy makes a daemon talk to
// a distant apiserver; the tests read the apiserver directly, without the proxy.
import { writeFileSync } from "node:fs"
import { createConnection, createServer, type Server, type Socket } from "node:net"
import { KubeConfig } from "@kubernetes/client-node"
import { listenOnLoopback } from "./ports.ts"

export interface LatencyProxy {
  readonly port: number
  /** Closes the listener and every connection through it. */
  readonly close: () => Promise<void>
}

/** Writes what arrives on `from` to `to`, each chunk `delayMs` later, in order; the end likewise. */
const delayedPipe = (from: Socket, to: Socket, delayMs: number) => {
  const queue: Array<{ due: number; chunk: Buffer | null }> = []
  let timer: ReturnType<typeof setTimeout> | undefined
  const flush = () => {
    timer = undefined
    const now = Date.now()
    while (queue.length > 0 && queue[0]!.due <= now) {
      const { chunk } = queue.shift()!
      if (to.destroyed) return
      if (chunk === null) to.end()
      else to.write(chunk)
    }
    if (queue.length > 0) timer = setTimeout(flush, queue[0]!.due - now)
  }
  const enqueue = (chunk: Buffer | null) => {
    queue.push({ due: Date.now() + delayMs, chunk })
    timer ??= setTimeout(flush, delayMs)
  }
  from.on("data", (chunk: Buffer) => enqueue(chunk))
  from.on("end", () => enqueue(null))
}

export const startLatencyProxy = async (target: { readonly host: string; readonly port: number }, delayMs: number): Promise<LatencyProxy> => {
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  }
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = createConnection({ host: target.host, port: target.port, allowHalfOpen: true })
    track(client)
    track(upstream)
    // Either side failing ends the pair, as a broken network path would.
    const fail = () => { client.destroy(); upstream.destroy() }
    client.on("error", fail)
    upstream.on("error", fail)
    delayedPipe(client, upstream, delayMs)
    delayedPipe(upstream, client, delayMs)
  })
  return {
    port: await listenOnLoopback(server, "latency proxy"),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** The apiserver of a kubeconfig's current context, as host and port. */
export const apiserverOf = (kubeconfigPath: string): { host: string; port: number } => {
  const kc = new KubeConfig()
  kc.loadFromFile(kubeconfigPath)
  const server = new URL(kc.getCurrentCluster()?.server ?? "")
  return { host: server.hostname, port: Number(server.port || 443) }
}

/**
 * Writes a copy of a kubeconfig whose current cluster is reached through the proxy (same
 * credentials, same CA: the apiserver's certificate names 127.0.0.1, whatever the port).
 */
export const writeKubeconfigThrough = (kubeconfigPath: string, proxy: LatencyProxy, outPath: string): string => {
  const kc = new KubeConfig()
  kc.loadFromFile(kubeconfigPath)
  const current = kc.getCurrentCluster()
  if (!current) throw new Error(`${kubeconfigPath} has no current cluster`)
  const server = new URL(current.server)
  server.port = String(proxy.port)
  const through = new KubeConfig()
  through.loadFromOptions({
    clusters: kc.clusters.map((c) => (c.name === current.name ? { ...c, server: server.origin } : c)),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.getCurrentContext(),
  })
  writeFileSync(outPath, through.exportConfig(), { mode: 0o600 })
  return outPath
}
