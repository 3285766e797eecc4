// Pure rules of per-cluster status (a project's namespace, a resource's object in each cluster);
// the project and resource machines' guards and actions call these. `Phase` is what a cluster may
// show: a project's namespace phases, or a resource's, which add `Unavailable` (the cluster does
// not serve the kind, so it neither runs the resource nor holds it back).
import type { ClusterId } from "../src/domain/cluster.ts"
import type { ClusterNamespacePhase, ProjectPhase } from "../src/domain/project.ts"
import type { ResourceCondition } from "../src/domain/resource.ts"

export interface ClusterState<Phase extends string = ClusterNamespacePhase> {
  readonly phase: Phase
  readonly observedGeneration: number
  readonly reason?: string
  /** The object's status conditions (resources only), as the cluster last reported them. */
  readonly conditions?: ReadonlyArray<ResourceCondition>
  /** Failed observations since the last success: how long this cluster has been struggling. */
  readonly attempts: number
  readonly updatedAt: string
  /** The cluster stopped sending heartbeats: it does not hold the project back from Ready (docs/api.md). */
  readonly unreachable?: true
}

export type Clusters<Phase extends string = ClusterNamespacePhase> = Readonly<Record<string, ClusterState<Phase>>>

/** What a daemon reports: one of the phases a cluster may show (Pending and Deleting are Fabric's own). */
export interface Observation<Phase extends string = ClusterNamespacePhase> {
  readonly clusterId: ClusterId
  readonly generation: number
  readonly phase: Exclude<Phase, "Pending" | "Deleting">
  readonly reason?: string
  readonly conditions?: ReadonlyArray<ResourceCondition>
  readonly at: string
}

export const pendingClusters = <Phase extends string = ClusterNamespacePhase>(ids: ReadonlyArray<string>, at: string, unreachable: ReadonlyArray<string> = []): Clusters<Phase> =>
  Object.fromEntries(ids.map((id) => [id, {
    phase: "Pending" as Phase, observedGeneration: 0, attempts: 0, updatedAt: at, ...(unreachable.includes(id) ? { unreachable: true as const } : {}),
  } satisfies ClusterState<Phase>]))

const sameConditions = (a: ReadonlyArray<ResourceCondition> | undefined, b: ReadonlyArray<ResourceCondition> | undefined) =>
  JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

/**
 * Applies one daemon observation. Ignored (same object returned) when it is for another
 * generation than the current one, comes from a cluster that is not a member, or changes nothing.
 */
export const applyObservation = <Phase extends string>(clusters: Clusters<Phase>, generation: number, o: Observation<Phase>): Clusters<Phase> => {
  const current = clusters[o.clusterId]
  if (current === undefined || o.generation !== generation) return clusters
  // A namespace already reported gone stays gone for this generation (a duplicate Ready is late).
  if (current.phase === "Deleted") return clusters
  const attempts = o.phase === "Failed" ? current.attempts + 1 : 0
  if (current.phase === o.phase && current.observedGeneration === o.generation && current.reason === o.reason && sameConditions(current.conditions, o.conditions)) return clusters
  const next: ClusterState<Phase> = {
    phase: o.phase, observedGeneration: o.generation, attempts, updatedAt: o.at,
    ...(o.reason === undefined ? {} : { reason: o.reason }),
    ...(o.conditions === undefined ? {} : { conditions: o.conditions }),
    ...(current.unreachable ? { unreachable: true as const } : {}),
  }
  return { ...clusters, [o.clusterId]: next }
}

export const markAll = <Phase extends string>(clusters: Clusters<Phase>, phase: Phase, at: string): Clusters<Phase> =>
  Object.fromEntries(Object.entries(clusters).map(([id, c]) => [id, { ...c, phase, updatedAt: at, attempts: 0 }]))

const statuses = <Phase extends string>(clusters: Clusters<Phase>) => Object.values(clusters)
const reachable = <Phase extends string>(clusters: Clusters<Phase>) => statuses(clusters).filter((c) => !c.unreachable)

/**
 * Ready: every Active (reachable) cluster that offers the object reports Ready for the current
 * generation (docs/api.md); a cluster that reported `Unavailable` (it does not serve the kind)
 * does not count. Never with no such cluster at all (every cluster removed, none reachable, none
 * serving the kind): nothing is known to exist anywhere, so it stays Provisioning until one reports.
 */
export const everyClusterReady = <Phase extends string>(clusters: Clusters<Phase>, generation: number): boolean => {
  const offering = reachable(clusters).filter((c) => c.phase !== "Unavailable")
  return offering.length > 0 && offering.every((c) => c.phase === "Ready" && c.observedGeneration === generation)
}

export const someClusterFailed = <Phase extends string>(clusters: Clusters<Phase>): boolean => reachable(clusters).some((c) => c.phase === "Failed")

/** Marks a cluster (un)reachable; no change when it already is, or is not a member. */
export const setReachable = <Phase extends string>(clusters: Clusters<Phase>, clusterId: string, isReachable: boolean): Clusters<Phase> => {
  const current = clusters[clusterId]
  if (current === undefined || !current.unreachable === isReachable) return clusters
  const { unreachable: _flag, ...rest } = current
  return { ...clusters, [clusterId]: isReachable ? rest : { ...rest, unreachable: true } }
}

export const everyClusterDeleted = <Phase extends string>(clusters: Clusters<Phase>): boolean => statuses(clusters).every((c) => c.phase === "Deleted")

/** The API phase of a live project, derived from its clusters. */
export const livePhase = <Phase extends string>(clusters: Clusters<Phase>, generation: number): ProjectPhase =>
  everyClusterReady(clusters, generation) ? "Ready" : someClusterFailed(clusters) ? "Degraded" : "Provisioning"

/** A cluster that joined: Pending (or `phase`) until its daemon reports; no change if already a member. */
export const addCluster = <Phase extends string>(clusters: Clusters<Phase>, clusterId: string, phase: Phase, at: string): Clusters<Phase> =>
  clusters[clusterId] !== undefined ? clusters : { ...clusters, [clusterId]: { phase, observedGeneration: 0, attempts: 0, updatedAt: at } }

/** Observations from clusters that are not members (yet), newest per cluster. */
export type Unclaimed<Phase extends string = ClusterNamespacePhase> = Readonly<Record<string, Observation<Phase>>>

/**
 * Keeps an observation from a non-member for the current generation. A cluster's join (on
 * fabric.clusters) and its first reports (on fabric.status) travel on different topics, so its
 * reports may arrive first; dropping them would leave it Pending for good.
 */
export const holdUnclaimed = <Phase extends string>(unclaimed: Unclaimed<Phase>, clusters: Clusters<Phase>, generation: number, o: Observation<Phase>): Unclaimed<Phase> =>
  clusters[o.clusterId] !== undefined || o.generation !== generation ? unclaimed : {
    ...unclaimed,
    [o.clusterId]: {
      clusterId: o.clusterId, generation: o.generation, phase: o.phase, at: o.at,
      ...(o.reason === undefined ? {} : { reason: o.reason }), ...(o.conditions === undefined ? {} : { conditions: o.conditions }),
    },
  }

/** A cluster joins as `phase`; what it already reported for the current generation applies at once. */
export const joinCluster = <Phase extends string>(
  clusters: Clusters<Phase>, unclaimed: Unclaimed<Phase>, generation: number, clusterId: string, phase: Phase, at: string,
): { readonly clusters: Clusters<Phase>; readonly unclaimed: Unclaimed<Phase> } => {
  const added = addCluster(clusters, clusterId, phase, at)
  const held = unclaimed[clusterId]
  if (added === clusters || held === undefined) return { clusters: added, unclaimed }
  const { [clusterId]: _claimed, ...rest } = unclaimed
  return { clusters: applyObservation(added, generation, held), unclaimed: rest }
}

/** A cluster removed from the fleet: the project stops waiting for it. */
export const removeCluster = <Phase extends string>(clusters: Clusters<Phase>, clusterId: string): Clusters<Phase> => {
  if (clusters[clusterId] === undefined) return clusters
  const { [clusterId]: _removed, ...rest } = clusters
  return rest
}

/** A deletion lets a cluster go (removed, or unreachable past the deadline), with the reason kept. */
export const releaseCluster = <Phase extends string>(clusters: Clusters<Phase>, clusterId: string, reason: string, at: string): Clusters<Phase> => {
  const current = clusters[clusterId]
  if (current === undefined || current.phase === "Deleted") return clusters
  return { ...clusters, [clusterId]: { ...current, phase: "Deleted" as Phase, reason: `let go: ${reason}`, updatedAt: at } }
}
