// Fabric's HTTP API (docs/api.md) as the benchmark drives it: plain fetch, so any tree's server
// can be measured, and the project watch (SSE) to see a project become Ready the moment the
// server knows it.
import { performance } from "node:perf_hooks"

export interface ProjectView {
  readonly id: string
  readonly accountId: string
  readonly namespace: string
  readonly phase: string
  readonly generation: number
  readonly clusters: Record<string, { readonly phase: string; readonly observedGeneration: number }>
}

export const readyEverywhere = (clusterIds: ReadonlyArray<string>) => (p: ProjectView) =>
  p.phase === "Ready" && clusterIds.every((id) => p.clusters[id]?.phase === "Ready")

export class FabricApi {
  readonly url: string
  readonly token: string
  /** Load the benchmark itself puts on the server to observe it (reported beside the figures). */
  readonly observation = { watches: 0, openWatches: 0, peakOpenWatches: 0, watchEvents: 0, polls: 0 }
  /** Accounts this run created (their namespaces are cleaned up from the apiservers afterwards). */
  readonly accounts = new Set<string>()

  constructor(url: string, token: string) {
    this.url = url
    this.token = token
  }

  async request(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` }
    if (body !== undefined) headers["content-type"] = "application/json"
    const r = await fetch(`${this.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    const text = await r.text()
    let json: any
    try { json = text === "" ? undefined : JSON.parse(text) } catch { json = { raw: text } }
    return { status: r.status, json }
  }

  private async must(method: string, path: string, status: number, body?: unknown) {
    const r = await this.request(method, path, body)
    if (r.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`)
    return r.json
  }

  async createAccount(tag: string): Promise<{ accountId: string; project: ProjectView }> {
    const j = await this.must("POST", "/v1/accounts", 201, { name: `Bench ${tag}`, email: `bench-${tag}-${Date.now().toString(36)}@bench.test` })
    this.accounts.add(j.account.id)
    return { accountId: j.account.id, project: j.project }
  }

  /** The create call as the load generators time it: the status, and the project on 201. */
  async createProject(accountId: string, name: string): Promise<{ status: number; project?: ProjectView; error?: string }> {
    const r = await this.request("POST", `/v1/accounts/${accountId}/projects`, { name })
    return r.status === 201 ? { status: r.status, project: r.json.project } : { status: r.status, error: JSON.stringify(r.json).slice(0, 200) }
  }

  createProjectOrThrow = async (accountId: string, name: string): Promise<ProjectView> =>
    (await this.must("POST", `/v1/accounts/${accountId}/projects`, 201, { name })).project

  deleteProject = (id: string) => this.must("DELETE", `/v1/projects/${id}`, 202)

  async getProject(id: string): Promise<ProjectView> {
    this.observation.polls++
    return (await this.must("GET", `/v1/projects/${id}`, 200)).project
  }

  /** Every project of an account, page by page (100 a page). */
  async listProjects(accountId: string): Promise<ProjectView[]> {
    const all: ProjectView[] = []
    let cursor: string | null = null
    do {
      this.observation.polls++
      const j: any = await this.must("GET", `/v1/accounts/${accountId}/projects?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, 200)
      all.push(...j.projects)
      cursor = j.nextCursor
    } while (cursor)
    return all
  }

  async clusters(): Promise<Array<{ id: string; phase: string }>> {
    return (await this.must("GET", "/v1/clusters", 200)).clusters
  }

  async readyz(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/readyz`)).status === 200
    } catch {
      return false
    }
  }

  /**
   * Follows GET /v1/projects/:id/watch until `done` holds; resolves with the moment (performance
   * clock) the event showing it arrived, or undefined when `timeoutMs` passes first.
   */
  async watchUntil(projectId: string, done: (p: ProjectView) => boolean, timeoutMs: number): Promise<{ at: number; project: ProjectView } | undefined> {
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(), timeoutMs)
    const o = this.observation
    o.watches++
    o.peakOpenWatches = Math.max(o.peakOpenWatches, ++o.openWatches)
    try {
      const r = await fetch(`${this.url}/v1/projects/${projectId}/watch`, { headers: { authorization: `Bearer ${this.token}` }, signal: abort.signal })
      if (r.status !== 200 || !r.body) throw new Error(`watch ${projectId}: ${r.status} ${await r.text()}`)
      const decoder = new TextDecoder()
      let buffered = ""
      for await (const chunk of r.body) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true })
        let end: number
        while ((end = buffered.indexOf("\n\n")) >= 0) {
          const frame = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          const data = frame.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n")
          if (data === "") continue
          o.watchEvents++
          const project = JSON.parse(data) as ProjectView
          if (done(project)) return { at: performance.now(), project }
        }
      }
      return undefined // the server ended the stream (a Deleted project) without `done`
    } catch (e) {
      if (abort.signal.aborted) return undefined
      throw e
    } finally {
      clearTimeout(timer)
      o.openWatches--
      abort.abort()
    }
  }

  /** Waits until `count` clusters are Active (a daemon has joined and management took it in). */
  async waitForActiveClusters(ids: ReadonlyArray<string>, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs
    let last: unknown
    while (Date.now() < deadline) {
      try {
        const active = new Set((await this.clusters()).filter((c) => c.phase === "Active").map((c) => c.id))
        if (ids.every((id) => active.has(id))) return
        last = [...active]
      } catch (e) { last = e }
      await new Promise((r) => setTimeout(r, 200))
    }
    throw new Error(`clusters ${ids.join(", ")} not all Active within ${timeoutMs} ms (last: ${String(last)})`)
  }
}
