// A small apiserver client for the benchmark's own calls (the raw namespace-create baseline,
// counting, cleanup): the kubeconfig's server, CA and token over one keep-alive HTTPS agent, so
// the baseline does not pay a TLS handshake per request.
import { KubeConfig } from "@kubernetes/client-node"
import { Agent, request } from "node:https"

export interface KubeClient {
  readonly server: string
  readonly call: (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>
  readonly close: () => void
}

export const kubeClient = (kubeconfigPath: string): KubeClient => {
  const kc = new KubeConfig()
  kc.loadFromFile(kubeconfigPath)
  const cluster = kc.getCurrentCluster()
  const user = kc.getCurrentUser()
  if (!cluster || !user?.token) throw new Error(`${kubeconfigPath}: needs a current cluster and a token user`)
  const ca = cluster.caData ? Buffer.from(cluster.caData, "base64") : undefined
  const agent = new Agent({ keepAlive: true, maxSockets: 32, ca })
  const server = new URL(cluster.server)
  const call = (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; json: any }>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body)
      const req = request({
        host: server.hostname, port: server.port, path, method, agent,
        headers: { authorization: `Bearer ${user.token}`, accept: "application/json", ...(payload ? { "content-type": "application/json" } : {}) },
        timeout: 30_000,
      }, (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (d) => (text += d))
        res.on("end", () => {
          let json: any
          try { json = text ? JSON.parse(text) : undefined } catch { json = { raw: text } }
          resolve({ status: res.statusCode ?? 0, json })
        })
      })
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)))
      req.on("error", reject)
      if (payload) req.write(payload)
      req.end()
    })
  return { server: cluster.server, call, close: () => agent.destroy() }
}

/** Every namespace matching the label selector, page by page. */
export const listNamespaces = async (kube: KubeClient, labelSelector: string) => {
  const items: Array<{ metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> } }> = []
  let token: string | undefined
  do {
    const q = new URLSearchParams({ limit: "500", labelSelector, ...(token ? { continue: token } : {}) })
    const r = await kube.call("GET", `/api/v1/namespaces?${q}`)
    if (r.status !== 200) throw new Error(`list namespaces: ${r.status} ${JSON.stringify(r.json).slice(0, 200)}`)
    items.push(...r.json.items)
    token = r.json.metadata?.continue || undefined
  } while (token)
  return items
}

/** How many namespaces the apiserver holds: one small page and its remainingItemCount. */
export const countNamespaces = async (kube: KubeClient): Promise<number> => {
  const r = await kube.call("GET", "/api/v1/namespaces?limit=1")
  if (r.status !== 200) throw new Error(`count namespaces: ${r.status}`)
  const remaining = r.json.metadata?.remainingItemCount
  if (typeof remaining === "number") return r.json.items.length + remaining
  return (await listNamespaces(kube, "")).length
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
export const forEachLimited = async <T>(items: ReadonlyArray<T>, concurrency: number, work: (item: T) => Promise<unknown>) => {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!)
  }))
}

/**
 * Deletes the namespaces Fabric made for these accounts (the account annotation says whose), so a
 * run leaves the shared apiservers as it found them, and waits (up to `waitMs`) until the
 * namespace controller has them gone, so the next measurement does not share the machine with it.
 */
export const deleteAccountsNamespaces = async (adminKubeconfig: string, accountIds: ReadonlySet<string>, waitMs: number) => {
  const kube = kubeClient(adminKubeconfig)
  const ours = async () => (await listNamespaces(kube, "app.kubernetes.io/managed-by=fabric"))
    .filter((ns) => accountIds.has(ns.metadata.annotations?.["fabric.demeter.run/account"] ?? ""))
  try {
    const found = await ours()
    await forEachLimited(found, 16, (ns) => kube.call("DELETE", `/api/v1/namespaces/${ns.metadata.name}`))
    const deadline = Date.now() + waitMs
    let left = found.length
    while (left > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2_000))
      left = (await ours()).length
    }
    return { deleted: found.length, left }
  } finally {
    kube.close()
  }
}
