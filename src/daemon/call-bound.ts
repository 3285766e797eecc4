// The bound on concurrent apiserver calls of one daemon: each Cluster call holds a permit for
// the call only (its client-side rate-limit wait and retries included). Whatever waits between
// calls (a Terminating namespace followed until it is gone, the backoff of an outage) holds none,
// so a slow project never takes the apiserver away from the others.
import { Semaphore } from "effect"
import { Cluster } from "../services/cluster.ts"

/** The same cluster, with at most `permits` calls in flight at once. */
export const boundCalls = (cluster: typeof Cluster.Service, permits: number): typeof Cluster.Service => {
  const calls = Semaphore.makeUnsafe(permits)
  return Cluster.of({
    id: cluster.id,
    ensureNamespace: (ns) => calls.withPermit(cluster.ensureNamespace(ns)),
    deleteNamespace: (ns) => calls.withPermit(cluster.deleteNamespace(ns)),
    listManaged: () => calls.withPermit(cluster.listManaged()),
    servedKinds: (kinds) => calls.withPermit(cluster.servedKinds(kinds)),
    applyObject: (object) => calls.withPermit(cluster.applyObject(object)),
    deleteObject: (object) => calls.withPermit(cluster.deleteObject(object)),
    listManagedObjects: (kind) => calls.withPermit(cluster.listManagedObjects(kind)),
  })
}
