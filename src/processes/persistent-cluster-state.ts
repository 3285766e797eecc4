// A simulated cluster that survives a restart of the embedded default, like a real cluster
// would. Its namespaces live in <dataDir>/clusters/<id>.json (a snapshot) plus <id>.log (one JSON
// line per change since the snapshot). A change is one small append, written before the call
// returns, so it survives the process being killed; rewriting the whole snapshot on every change
// cost O(namespaces) per change (most of the CPU with 100 clusters). The journal is folded into
// the snapshot when the state is opened (write-then-rename: a crash leaves the old or the new).
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs"
import { dirname, join } from "node:path"
import { SimulatedClusterState, type SimulatedClusterSettings, type SimulatedNamespace } from "../../adapters/embedded/cluster.ts"

export const simulatedClusterFile = (dataDir: string, clusterId: string) => join(dataDir, "clusters", `${clusterId}.json`)

/** A namespace as it now is (created, or Terminating with the time it will be gone). */
type Change = { readonly op: "put"; readonly ns: SimulatedNamespace }

const journalOf = (file: string) => file.replace(/\.json$/, ".log")

/** The namespaces a cluster file and its journal hold (a torn last line, from a kill mid-append, is ignored). */
export const readSimulatedNamespaces = (file: string): SimulatedNamespace[] => {
  const byName = new Map<string, SimulatedNamespace>()
  if (existsSync(file)) for (const ns of JSON.parse(readFileSync(file, "utf8")) as SimulatedNamespace[]) byName.set(ns.name, ns)
  const journal = journalOf(file)
  if (existsSync(journal)) {
    for (const line of readFileSync(journal, "utf8").split("\n")) {
      if (line === "") continue
      let change: Change
      try { change = JSON.parse(line) as Change } catch { continue }
      if (change.op === "put") byName.set(change.ns.name, change.ns)
    }
  }
  return [...byName.values()]
}

export class PersistentClusterState extends SimulatedClusterState {
  readonly #file: string
  readonly #journal: string
  #journalFd: number | undefined

  constructor(file: string, settings: SimulatedClusterSettings = {}) {
    super(settings)
    this.#file = file
    this.#journal = journalOf(file)
    for (const ns of readSimulatedNamespaces(file)) this.namespaces.set(ns.name, { ...ns })
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

  #append(change: Change): void {
    this.#journalFd ??= openSync(this.#journal, "a")
    writeSync(this.#journalFd, `${JSON.stringify(change)}\n`)
  }

  #compact(): void {
    mkdirSync(dirname(this.#file), { recursive: true })
    const tmp = `${this.#file}.tmp`
    writeFileSync(tmp, JSON.stringify([...this.namespaces.values()]))
    renameSync(tmp, this.#file)
    rmSync(this.#journal, { force: true })
  }
}
