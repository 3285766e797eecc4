// A simulated cluster that survives a restart of the embedded default, like a real cluster
// would. Its namespaces and custom objects live in <dataDir>/clusters/<id>.json (a snapshot) plus
// <id>.log (one JSON line per change since the snapshot). A change is one small append, written before the call
// returns, so it survives the process being killed; rewriting the whole snapshot on every change
// cost O(namespaces) per change (most of the CPU with 100 clusters). The journal is folded into
// the snapshot when the state is opened (write-then-rename: a crash leaves the old or the new).
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs"
import { dirname, join } from "node:path"
import { SimulatedClusterState, type SimulatedClusterSettings, type SimulatedNamespace, type SimulatedObject } from "../../adapters/embedded/cluster.ts"

export const simulatedClusterFile = (dataDir: string, clusterId: string) => join(dataDir, "clusters", `${clusterId}.json`)

/** A namespace or an object as it now is (created, changed, or being deleted with the time it will be gone). */
type Change = { readonly op: "put"; readonly ns: SimulatedNamespace } | { readonly op: "object"; readonly object: SimulatedObject }

/** The snapshot: namespaces (an array, as files before objects were kept), or both. */
type Snapshot = SimulatedNamespace[] | { readonly namespaces: SimulatedNamespace[]; readonly objects: SimulatedObject[] }

const objectKey = (o: SimulatedObject) => `${o.kind}/${o.namespace}/${o.name}`

const journalOf = (file: string) => file.replace(/\.json$/, ".log")

/** What a cluster file and its journal hold (a torn last line, from a kill mid-append, is ignored). */
export const readSimulatedCluster = (file: string): { namespaces: SimulatedNamespace[]; objects: SimulatedObject[] } => {
  const byName = new Map<string, SimulatedNamespace>()
  const objects = new Map<string, SimulatedObject>()
  if (existsSync(file)) {
    const snapshot = JSON.parse(readFileSync(file, "utf8")) as Snapshot
    for (const ns of Array.isArray(snapshot) ? snapshot : snapshot.namespaces) byName.set(ns.name, ns)
    for (const o of Array.isArray(snapshot) ? [] : snapshot.objects) objects.set(objectKey(o), o)
  }
  const journal = journalOf(file)
  if (existsSync(journal)) {
    for (const line of readFileSync(journal, "utf8").split("\n")) {
      if (line === "") continue
      let change: Change
      try { change = JSON.parse(line) as Change } catch { continue }
      if (change.op === "put") byName.set(change.ns.name, change.ns)
      else objects.set(objectKey(change.object), change.object)
    }
  }
  return { namespaces: [...byName.values()], objects: [...objects.values()] }
}

/** The namespaces a cluster file and its journal hold. */
export const readSimulatedNamespaces = (file: string): SimulatedNamespace[] => readSimulatedCluster(file).namespaces

export class PersistentClusterState extends SimulatedClusterState {
  readonly #file: string
  readonly #journal: string
  #journalFd: number | undefined

  constructor(file: string, settings: SimulatedClusterSettings = {}) {
    super(settings)
    this.#file = file
    this.#journal = journalOf(file)
    const stored = readSimulatedCluster(file)
    for (const ns of stored.namespaces) this.namespaces.set(ns.name, { ...ns })
    for (const o of stored.objects) this.objects.set(objectKey(o), { ...o })
    this.#compact()
  }

  override create(...args: Parameters<SimulatedClusterState["create"]>): SimulatedNamespace {
    const ns = super.create(...args)
    this.#append({ op: "put", ns })
    return ns
  }

  override delete(...args: Parameters<SimulatedClusterState["delete"]>): boolean {
    const deleted = super.delete(...args)
    const ns = this.namespaces.get(args[0])
    if (deleted && ns !== undefined) this.#append({ op: "put", ns })
    return deleted
  }

  override putObject(...args: Parameters<SimulatedClusterState["putObject"]>): SimulatedObject {
    const object = super.putObject(...args)
    this.#append({ op: "object", object })
    return object
  }

  override deleteObject(...args: Parameters<SimulatedClusterState["deleteObject"]>): boolean {
    const deleted = super.deleteObject(...args)
    const [kind, namespace, name] = args
    const object = this.objects.get(`${kind}/${namespace}/${name}`)
    if (deleted && object !== undefined) this.#append({ op: "object", object })
    return deleted
  }

  #append(change: Change): void {
    this.#journalFd ??= openSync(this.#journal, "a")
    writeSync(this.#journalFd, `${JSON.stringify(change)}\n`)
  }

  #compact(): void {
    mkdirSync(dirname(this.#file), { recursive: true })
    const tmp = `${this.#file}.tmp`
    writeFileSync(tmp, JSON.stringify({ namespaces: [...this.namespaces.values()], objects: [...this.objects.values()] } satisfies Snapshot))
    renameSync(tmp, this.#file)
    rmSync(this.#journal, { force: true })
  }
}
