// What the project and resource machines share: an entity with a status in every member cluster,
// driven by the daemons' observations and by membership changes. The context updates below are
// the machines' `assign` actions (pure: each returns what changes, `{}` when nothing does), and
// `convergence` is the `live` state both machines go through until every cluster reports Ready.
import {
  applyObservation, holdUnclaimed, joinCluster, markAll, releaseCluster, removeCluster, setReachable,
  type Clusters, type Observation, type Unclaimed,
} from "./project-status.ts"

/** The part of a machine's context the per-cluster rules read and write. */
export interface PerClusterContext<Phase extends string> {
  readonly generation: number
  readonly updatedAt: string
  readonly clusters: Clusters<Phase>
  /** Reports from clusters whose join has not arrived yet (absent in older snapshots). */
  readonly unclaimed?: Unclaimed<Phase>
}

type Change<Phase extends string> = Partial<PerClusterContext<Phase>>

/** Membership events, sent to every entity a change concerns (src/management/cluster-registry.ts). */
export type ClusterEvent =
  /** A cluster joined the fleet: the entity gains it until its daemon reports. */
  | { readonly type: "cluster.joined"; readonly clusterId: string; readonly at: string }
  /** An operator removed the cluster: the entity stops waiting for it. */
  | { readonly type: "cluster.removed"; readonly clusterId: string; readonly reason: string; readonly at: string }
  /** A deletion gives up on a cluster (unreachable past the deadline); the reason is kept. */
  | { readonly type: "cluster.released"; readonly clusterId: string; readonly reason: string; readonly at: string }
  /** The cluster stopped (or resumed) sending heartbeats. */
  | { readonly type: "cluster.reachability"; readonly clusterId: string; readonly reachable: boolean; readonly at: string }

/** A daemon's observation: applied to its cluster, or held until that cluster's join arrives. */
export const observed = <Phase extends string>(context: PerClusterContext<Phase>, o: Observation<Phase>): Change<Phase> => {
  const unclaimed = context.unclaimed ?? {}
  const held = holdUnclaimed(unclaimed, context.clusters, context.generation, o)
  if (held !== unclaimed) return { unclaimed: held }
  const clusters = applyObservation(context.clusters, context.generation, o)
  return clusters === context.clusters ? {} : { clusters, updatedAt: o.at }
}

/** A cluster joins as `phase` (Pending, or Deleting mid-deletion). */
export const joined = <Phase extends string>(context: PerClusterContext<Phase>, clusterId: string, phase: Phase, at: string): Change<Phase> => {
  const next = joinCluster(context.clusters, context.unclaimed ?? {}, context.generation, clusterId, phase, at)
  return next.clusters === context.clusters ? {} : { clusters: next.clusters, unclaimed: next.unclaimed, updatedAt: at }
}

const withClusters = <Phase extends string>(context: PerClusterContext<Phase>, clusters: Clusters<Phase>, at: string): Change<Phase> =>
  clusters === context.clusters ? {} : { clusters, updatedAt: at }

/** A cluster removed from the fleet while live: it is no longer waited for. */
export const dropped = <Phase extends string>(context: PerClusterContext<Phase>, clusterId: string, at: string): Change<Phase> =>
  withClusters(context, removeCluster(context.clusters, clusterId), at)

/** A deletion lets a cluster go (removed, or unreachable past the deadline), with the reason kept. */
export const letGo = <Phase extends string>(context: PerClusterContext<Phase>, clusterId: string, reason: string, at: string): Change<Phase> =>
  withClusters(context, releaseCluster(context.clusters, clusterId, reason, at), at)

export const reachability = <Phase extends string>(context: PerClusterContext<Phase>, clusterId: string, reachable: boolean, at: string): Change<Phase> =>
  withClusters(context, setReachable(context.clusters, clusterId, reachable), at)

/** A new generation every cluster must catch up with: each shows `phase` until it reports. */
export const nextGeneration = <Phase extends string>(context: PerClusterContext<Phase>, phase: Phase, at: string): Change<Phase> =>
  ({ generation: context.generation + 1, clusters: markAll(context.clusters, phase, at), updatedAt: at })

/**
 * The `live` state's children: Provisioning until every cluster that offers the entity reports
 * Ready for the current generation, Degraded while one reports Failed (its daemon keeps trying,
 * and the entity recovers by itself). Guards of these names must be in the machine's setup.
 */
export const convergence = {
  initial: "provisioning",
  states: {
    provisioning: {
      always: [
        { guard: "everyClusterReady", target: "ready" },
        { guard: "someClusterFailed", target: "degraded" },
      ],
    },
    ready: {
      always: [
        { guard: "someClusterFailed", target: "degraded" },
        { guard: "notEveryClusterReady", target: "provisioning" },
      ],
    },
    /** Some cluster failed; its daemon keeps retrying and the entity recovers on its own. */
    degraded: {
      always: [
        { guard: "everyClusterReady", target: "ready" },
        { guard: "noClusterFailed", target: "provisioning" },
      ],
    },
  },
} as const
