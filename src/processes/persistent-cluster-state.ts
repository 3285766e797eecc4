// A simulated cluster that survives a restart of the embedded default, like a real cluster
// would: its namespaces are written to <dataDir>/clusters/<id>.json after every change
// (write-then-rename, so a crash leaves the old or the new file, never half of one).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { SimulatedClusterState, type SimulatedClusterSettings, type SimulatedNamespace } from "../../adapters/embedded/cluster.ts"

export const simulatedClusterFile = (dataDir: string, clusterId: string) => join(dataDir, "clusters", `${clusterId}.json`)

export const readSimulatedNamespaces = (file: string): SimulatedNamespace[] =>
  existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as SimulatedNamespace[]) : []

export class PersistentClusterState extends SimulatedClusterState {
  readonly #file: string

  constructor(file: string, settings: SimulatedClusterSettings = {}) {
    super(settings)
    this.#file = file
    for (const ns of readSimulatedNamespaces(file)) this.namespaces.set(ns.name, { ...ns })
  }

  override create(...args: Parameters<SimulatedClusterState["create"]>): SimulatedNamespace {
    const ns = super.create(...args)
    this.save()
    return ns
  }

  override delete(...args: Parameters<SimulatedClusterState["delete"]>): boolean {
    const deleted = super.delete(...args)
    if (deleted) this.save()
    return deleted
  }

  save(): void {
    mkdirSync(dirname(this.#file), { recursive: true })
    const tmp = `${this.#file}.tmp`
    writeFileSync(tmp, JSON.stringify([...this.namespaces.values()]))
    renameSync(tmp, this.#file)
  }
}
