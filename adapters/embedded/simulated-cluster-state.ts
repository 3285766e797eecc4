// The memory of one simulated cluster: its namespaces and the knobs tests turn (outages, latency,
// how long deletion takes). Shared by reference, so a test or `fabric dev` can look inside and act
// "by hand" the way an operator with kubectl would. Web-standard only (no Node APIs).
//
// Times are milliseconds since the epoch. The layer passes Effect's Clock; the "by hand" helpers
// default to Date.now() because they are called from outside Effect.

export interface SimulatedNamespace {
  readonly name: string
  readonly uid: string
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
  /** Set when deletion starts: the namespace is Terminating, and gone once this time passes. */
  goneAt: number | undefined
  /** Stays Terminating while held, like a namespace whose contents still carry a finalizer. */
  held: boolean
}

export interface SimulatedClusterSettings {
  /** How long a deleted namespace stays Terminating (the namespace controller's work). Default 100. */
  readonly terminatingMs?: number
  /** Added to every call, to make the simulated apiserver as slow as a real one. Default 0. */
  readonly latencyMs?: number
}

const reasonFor = (byPrefix: ReadonlyMap<string, string>, name: string): string | undefined => {
  for (const [prefix, reason] of byPrefix) if (name.startsWith(prefix)) return reason
  return undefined
}

export class SimulatedClusterState {
  readonly namespaces = new Map<string, SimulatedNamespace>()
  terminatingMs: number
  latencyMs: number
  /** While true every call fails with ClusterUnavailable, as if the apiserver were down. */
  failing = false
  /** Name prefixes the apiserver refuses to create or delete, with the reason (an admission webhook's denial). */
  readonly refusing = new Map<string, string>()

  /**
   * Name prefixes whose calls fail as an outage would (a 5xx, such as an admission webhook that
   * times out), with the reason: retried, unlike a refusal, while the other namespaces work.
   */
  readonly unavailableFor = new Map<string, string>()

  /** Why a call on this namespace is refused, if it is. */
  refusalOf(name: string): string | undefined {
    return reasonFor(this.refusing, name)
  }

  /** Why a call on this namespace fails as an outage, if it does. */
  outageOf(name: string): string | undefined {
    return reasonFor(this.unavailableFor, name)
  }
  #failNext = 0

  constructor(settings: SimulatedClusterSettings = {}) {
    this.terminatingMs = settings.terminatingMs ?? 100
    this.latencyMs = settings.latencyMs ?? 0
  }

  /** The next `count` calls fail with ClusterUnavailable, then calls succeed again. */
  failNext(count = 1): void {
    this.#failNext += count
  }

  /** Decides whether the current call fails, consuming one `failNext` if so. */
  takeFailure(): boolean {
    if (this.failing) return true
    if (this.#failNext === 0) return false
    this.#failNext--
    return true
  }

  /** The namespace as the apiserver would return it now (finished deletions are dropped first). */
  lookup(name: string, now: number = Date.now()): SimulatedNamespace | undefined {
    const ns = this.namespaces.get(name)
    if (ns?.goneAt !== undefined && !ns.held && now >= ns.goneAt) {
      this.namespaces.delete(name)
      return undefined
    }
    return ns
  }

  /** Every namespace that still exists now, in name order like an apiserver list. */
  list(now: number = Date.now()): SimulatedNamespace[] {
    return [...this.namespaces.keys()]
      .sort()
      .flatMap((name) => this.lookup(name, now) ?? [])
  }

  create(name: string, metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}, now: number = Date.now()): SimulatedNamespace {
    if (this.lookup(name, now)) throw new Error(`namespaces "${name}" already exists`)
    const ns: SimulatedNamespace = {
      name,
      uid: crypto.randomUUID(),
      labels: { ...metadata.labels },
      annotations: { ...metadata.annotations },
      goneAt: undefined,
      held: false,
    }
    this.namespaces.set(name, ns)
    return ns
  }

  /** Starts deletion (idempotent, like `kubectl delete namespace`); false when there was nothing to delete. */
  delete(name: string, now: number = Date.now()): boolean {
    const ns = this.lookup(name, now)
    if (!ns) return false
    ns.goneAt ??= now + this.terminatingMs
    return true
  }

  /** Keeps the namespace Terminating after its deletion until `release` (see `held`). */
  hold(name: string): void {
    const ns = this.namespaces.get(name)
    if (!ns) throw new Error(`namespaces "${name}" not found`)
    ns.held = true
  }

  release(name: string): void {
    const ns = this.namespaces.get(name)
    if (ns) ns.held = false
  }
}
