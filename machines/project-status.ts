// Pure rules of a project's per-cluster status; the project machine's guards and actions call these.
import type { ClusterId } from "../src/domain/cluster.ts"
import type { ClusterNamespacePhase, ProjectPhase } from "../src/domain/project.ts"

export interface ClusterState {
  readonly phase: ClusterNamespacePhase
  readonly observedGeneration: number
  readonly reason?: string
  /** Failed observations since the last success: how long this cluster has been struggling. */
  readonly attempts: number
  readonly updatedAt: string
  /** The cluster stopped sending heartbeats: it does not hold the project back from Ready (docs/api.md). */
  readonly unreachable?: true
}

export type Clusters = Readonly<Record<string, ClusterState>>

export interface Observation {
  readonly clusterId: ClusterId
  readonly generation: number
  readonly phase: "Ready" | "Failed" | "Deleted"
  readonly reason?: string
  readonly at: string
}

export const pendingClusters = (ids: ReadonlyArray<string>, at: string, unreachable: ReadonlyArray<string> = []): Clusters =>
  Object.fromEntries(ids.map((id) => [id, {
    phase: "Pending", observedGeneration: 0, attempts: 0, updatedAt: at, ...(unreachable.includes(id) ? { unreachable: true as const } : {}),
  } satisfies ClusterState]))

/**
 * Applies one daemon observation. Ignored (same object returned) when it is for another
 * generation than the current one, comes from a cluster that is not a member, or changes nothing.
 */
export const applyObservation = (clusters: Clusters, generation: number, o: Observation): Clusters => {
  const current = clusters[o.clusterId]
  if (current === undefined || o.generation !== generation) return clusters
  // A namespace already reported gone stays gone for this generation (a duplicate Ready is late).
  if (current.phase === "Deleted") return clusters
  const attempts = o.phase === "Failed" ? current.attempts + 1 : 0
  if (current.phase === o.phase && current.observedGeneration === o.generation && current.reason === o.reason) return clusters
  const next: ClusterState = {
    phase: o.phase, observedGeneration: o.generation, attempts, updatedAt: o.at,
    ...(o.reason === undefined ? {} : { reason: o.reason }),
    ...(current.unreachable ? { unreachable: true as const } : {}),
  }
  return { ...clusters, [o.clusterId]: next }
}

export const markAll = (clusters: Clusters, phase: ClusterNamespacePhase, at: string): Clusters =>
  Object.fromEntries(Object.entries(clusters).map(([id, c]) => [id, { ...c, phase, updatedAt: at, attempts: 0 }]))

const statuses = (clusters: Clusters) => Object.values(clusters)
const reachable = (clusters: Clusters) => statuses(clusters).filter((c) => !c.unreachable)

/**
 * Ready: every Active (reachable) cluster reports Ready for the current generation (docs/api.md).
 * Never with no Active member at all (every cluster removed, or none reachable): no namespace is
 * known to exist anywhere, so the project stays Provisioning until a cluster joins and reports.
 */
export const everyClusterReady = (clusters: Clusters, generation: number): boolean => {
  const active = reachable(clusters)
  return active.length > 0 && active.every((c) => c.phase === "Ready" && c.observedGeneration === generation)
}

export const someClusterFailed = (clusters: Clusters): boolean => reachable(clusters).some((c) => c.phase === "Failed")

/** Marks a cluster (un)reachable; no change when it already is, or is not a member. */
export const setReachable = (clusters: Clusters, clusterId: string, isReachable: boolean): Clusters => {
  const current = clusters[clusterId]
  if (current === undefined || !current.unreachable === isReachable) return clusters
  const { unreachable: _flag, ...rest } = current
  return { ...clusters, [clusterId]: isReachable ? rest : { ...rest, unreachable: true } }
}

export const everyClusterDeleted = (clusters: Clusters): boolean => statuses(clusters).every((c) => c.phase === "Deleted")

/** The API phase of a live project, derived from its clusters. */
export const livePhase = (clusters: Clusters, generation: number): ProjectPhase =>
  everyClusterReady(clusters, generation) ? "Ready" : someClusterFailed(clusters) ? "Degraded" : "Provisioning"

/** A cluster that joined: Pending (or `phase`) until its daemon reports; no change if already a member. */
export const addCluster = (clusters: Clusters, clusterId: string, phase: ClusterNamespacePhase, at: string): Clusters =>
  clusters[clusterId] !== undefined ? clusters : { ...clusters, [clusterId]: { phase, observedGeneration: 0, attempts: 0, updatedAt: at } }

/** Observations from clusters that are not members (yet), newest per cluster. */
export type Unclaimed = Readonly<Record<string, Observation>>

/**
 * Keeps an observation from a non-member for the current generation. A cluster's join (on
 * fabric.clusters) and its first reports (on fabric.status) travel on different topics, so its
 * reports may arrive first; dropping them would leave it Pending for good.
 */
export const holdUnclaimed = (unclaimed: Unclaimed, clusters: Clusters, generation: number, o: Observation): Unclaimed =>
  clusters[o.clusterId] !== undefined || o.generation !== generation ? unclaimed : {
    ...unclaimed,
    [o.clusterId]: { clusterId: o.clusterId, generation: o.generation, phase: o.phase, at: o.at, ...(o.reason === undefined ? {} : { reason: o.reason }) },
  }

/** A cluster joins as `phase`; what it already reported for the current generation applies at once. */
export const joinCluster = (
  clusters: Clusters, unclaimed: Unclaimed, generation: number, clusterId: string, phase: ClusterNamespacePhase, at: string,
): { readonly clusters: Clusters; readonly unclaimed: Unclaimed } => {
  const added = addCluster(clusters, clusterId, phase, at)
  const held = unclaimed[clusterId]
  if (added === clusters || held === undefined) return { clusters: added, unclaimed }
  const { [clusterId]: _claimed, ...rest } = unclaimed
  return { clusters: applyObservation(added, generation, held), unclaimed: rest }
}

/** A cluster removed from the fleet: the project stops waiting for it. */
export const removeCluster = (clusters: Clusters, clusterId: string): Clusters => {
  if (clusters[clusterId] === undefined) return clusters
  const { [clusterId]: _removed, ...rest } = clusters
  return rest
}

/** A deletion lets a cluster go (removed, or unreachable past the deadline), with the reason kept. */
export const releaseCluster = (clusters: Clusters, clusterId: string, reason: string, at: string): Clusters => {
  const current = clusters[clusterId]
  if (current === undefined || current.phase === "Deleted") return clusters
  return { ...clusters, [clusterId]: { ...current, phase: "Deleted", reason: `let go: ${reason}`, updatedAt: at } }
}
