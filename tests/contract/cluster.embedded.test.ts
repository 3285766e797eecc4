// The Cluster contract against the simulated in-process cluster.
import { layer, SimulatedClusterState } from "../../adapters/embedded/cluster.ts"
import { clusterContract } from "./cluster.ts"

const state = new SimulatedClusterState({ terminatingMs: 30, latencyMs: 1 })

clusterContract("embedded", () => layer({ id: "embedded-a", state }), {
  createForeignNamespace: async (name, labels) => void state.create(name, { labels }),
  deleteNamespaceOutOfBand: async (name) => void state.delete(name),
  inspectNamespace: async (name) => {
    const ns = state.lookup(name)
    return ns && { labels: { ...ns.labels }, annotations: { ...ns.annotations }, terminating: ns.goneAt !== undefined }
  },
  holdDeletion: async (name) => state.hold(name),
  releaseDeletion: async (name) => state.release(name),
  deletionDeadlineMs: 2_000,
})
