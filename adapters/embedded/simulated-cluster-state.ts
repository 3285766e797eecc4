// The memory of one simulated cluster: its namespaces, the custom objects in them, the kinds it
// serves, and the knobs tests turn (outages, latency, how long deletion takes). Shared by reference, so a test or `fabric dev` can look inside and act
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

/** A custom object, as the apiserver keeps it. */
export interface SimulatedObject {
  readonly kind: string
  readonly namespace: string
  readonly name: string
  readonly uid: string
  labels: Readonly<Record<string, string>>
  annotations: Readonly<Record<string, string>>
  spec: unknown
  /** metadata.generation: 1 at creation, bumped by every change of the spec. */
  generation: number
  /** status.conditions, as an operator for the kind would write them (tests set them by hand). */
  conditions: ReadonlyArray<{ readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }>
  /** Set when deletion starts; gone once this time passes, unless held (a finalizer). */
  goneAt: number | undefined
  held: boolean
}

export interface SimulatedClusterSettings {
  /** How long a deleted namespace stays Terminating (the namespace controller's work). Default 100. */
  readonly terminatingMs?: number
  /** Added to every call, to make the simulated apiserver as slow as a real one. Default 0. */
  readonly latencyMs?: number
  /** Kinds of the catalogue this cluster does not serve (their CRD is not installed). Default none. */
  readonly unservedKinds?: ReadonlyArray<string>
}

const objectKey = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`

const reasonFor = (byPrefix: ReadonlyMap<string, string>, name: string): string | undefined => {
  for (const [prefix, reason] of byPrefix) if (name.startsWith(prefix)) return reason
  return undefined
}

export class SimulatedClusterState {
  readonly namespaces = new Map<string, SimulatedNamespace>()
  readonly objects = new Map<string, SimulatedObject>()
  /** Kinds whose CRD is not installed here: delete one to "install" it, add one to remove it. */
  readonly unservedKinds: Set<string>
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
    this.unservedKinds = new Set(settings.unservedKinds ?? [])
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

  /**
   * Starts deletion (idempotent, like `kubectl delete namespace`); false when there was nothing to
   * delete. Like the namespace controller, it deletes the objects inside first.
   */
  delete(name: string, now: number = Date.now()): boolean {
    const ns = this.lookup(name, now)
    if (!ns) return false
    ns.goneAt ??= now + this.terminatingMs
    for (const o of this.listObjects(undefined, now)) if (o.namespace === name) this.deleteObject(o.kind, o.namespace, o.name, now)
    return true
  }

  /** The object as the apiserver would return it now (finished deletions dropped first). */
  lookupObject(kind: string, namespace: string, name: string, now: number = Date.now()): SimulatedObject | undefined {
    const key = objectKey(kind, namespace, name)
    const o = this.objects.get(key)
    if (o?.goneAt !== undefined && !o.held && now >= o.goneAt) {
      this.objects.delete(key)
      return undefined
    }
    return o
  }

  /** Objects that exist now (of one kind, or all), in namespace and name order. */
  listObjects(kind: string | undefined, now: number = Date.now()): SimulatedObject[] {
    return [...this.objects.values()]
      .filter((o) => kind === undefined || o.kind === kind)
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
      .flatMap((o) => this.lookupObject(o.kind, o.namespace, o.name, now) ?? [])
  }

  /** Creates or replaces an object's content (as an apply would); the generation moves with its spec. */
  putObject(object: Pick<SimulatedObject, "kind" | "namespace" | "name" | "labels" | "annotations" | "spec">, now: number = Date.now()): SimulatedObject {
    const existing = this.lookupObject(object.kind, object.namespace, object.name, now)
    if (existing !== undefined) {
      if (JSON.stringify(existing.spec) !== JSON.stringify(object.spec)) existing.generation++
      existing.spec = object.spec
      existing.labels = { ...object.labels }
      existing.annotations = { ...object.annotations }
      return existing
    }
    const created: SimulatedObject = {
      ...object, labels: { ...object.labels }, annotations: { ...object.annotations }, uid: crypto.randomUUID(), generation: 1, conditions: [], goneAt: undefined, held: false,
    }
    this.objects.set(objectKey(object.kind, object.namespace, object.name), created)
    return created
  }

  /** Starts an object's deletion (idempotent); false when there was nothing to delete. Gone at once unless held. */
  deleteObject(kind: string, namespace: string, name: string, now: number = Date.now()): boolean {
    const o = this.lookupObject(kind, namespace, name, now)
    if (!o) return false
    o.goneAt ??= now
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
