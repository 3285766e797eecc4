// Pure rules of a project's per-cluster status; the project machine's guards and actions call these.
import type { ClusterNamespacePhase, ProjectPhase } from "../src/domain/project.ts"

export interface ClusterState {
  readonly phase: ClusterNamespacePhase
  readonly observedGeneration: number
  readonly reason?: string
  /** Failed observations since the last success: how long this cluster has been struggling. */
  readonly attempts: number
  readonly updatedAt: string
}

export type Clusters = Readonly<Record<string, ClusterState>>

export interface Observation {
  readonly clusterId: string
  readonly generation: number
  readonly phase: "Ready" | "Failed" | "Deleted"
  readonly reason?: string
  readonly at: string
}

export const pendingClusters = (ids: ReadonlyArray<string>, at: string): Clusters =>
  Object.fromEntries(ids.map((id) => [id, { phase: "Pending", observedGeneration: 0, attempts: 0, updatedAt: at } satisfies ClusterState]))

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
  }
  return { ...clusters, [o.clusterId]: next }
}

export const markAll = (clusters: Clusters, phase: ClusterNamespacePhase, at: string): Clusters =>
  Object.fromEntries(Object.entries(clusters).map(([id, c]) => [id, { ...c, phase, updatedAt: at, attempts: 0 }]))

const statuses = (clusters: Clusters) => Object.values(clusters)

/** Ready: every member cluster reports Ready for the current generation (vacuously true for none). */
export const everyClusterReady = (clusters: Clusters, generation: number): boolean =>
  statuses(clusters).every((c) => c.phase === "Ready" && c.observedGeneration === generation)

export const someClusterFailed = (clusters: Clusters): boolean => statuses(clusters).some((c) => c.phase === "Failed")

export const everyClusterDeleted = (clusters: Clusters): boolean => statuses(clusters).every((c) => c.phase === "Deleted")

/** The API phase of a live project, derived from its clusters. */
export const livePhase = (clusters: Clusters, generation: number): ProjectPhase =>
  everyClusterReady(clusters, generation) ? "Ready" : someClusterFailed(clusters) ? "Degraded" : "Provisioning"
