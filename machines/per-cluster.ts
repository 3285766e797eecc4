// What the project and resource machines share: an entity with a status in every member cluster,
// driven by the daemons' observations and by membership changes. The context updates below are
// the machines' `assign` actions (pure: each returns what changes, `{}` when nothing does), and
// `convergence` is the `live` state both machines go through until every cluster reports Ready.
import { assign, type AnyMachineSnapshot, type EventObject } from "xstate"
import type { ClusterId } from "../src/domain/cluster.ts"
import type { ProjectPhase } from "../src/domain/project.ts"
import {
  applyObservation, everyClusterDeleted, everyClusterReady, holdUnclaimed, joinCluster, markAll, releaseCluster, removeCluster, setReachable,
  someClusterFailed, type Clusters, type Observation, type Unclaimed,
} from "./project-status.ts"
import { refusedTo } from "./steps.ts"

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
  | { readonly type: "cluster.joined"; readonly clusterId: ClusterId; readonly at: string }
  /** An operator removed the cluster: the entity stops waiting for it. */
  | { readonly type: "cluster.removed"; readonly clusterId: ClusterId; readonly reason: string; readonly at: string }
  /** A deletion gives up on a cluster (unreachable past the deadline); the reason is kept. */
  | { readonly type: "cluster.released"; readonly clusterId: ClusterId; readonly reason: string; readonly at: string }
  /** The cluster stopped (or resumed) sending heartbeats. */
  | { readonly type: "cluster.reachability"; readonly clusterId: ClusterId; readonly reachable: boolean; readonly at: string }

/** The guards `convergence` and `deletion` name, for a machine's `setup({ guards })`. */
export const perClusterGuards = {
  everyClusterReady: ({ context }: { readonly context: PerClusterContext<string> }) => everyClusterReady(context.clusters, context.generation),
  someClusterFailed: ({ context }: { readonly context: PerClusterContext<string> }) => someClusterFailed(context.clusters),
  noClusterFailed: ({ context }: { readonly context: PerClusterContext<string> }) => !someClusterFailed(context.clusters),
  notEveryClusterReady: ({ context }: { readonly context: PerClusterContext<string> }) => !everyClusterReady(context.clusters, context.generation),
  everyClusterDeleted: ({ context }: { readonly context: PerClusterContext<string> }) => everyClusterDeleted(context.clusters),
}

/**
 * The actions `convergence` and `deletion` name, for a machine's `setup({ actions })`, typed by
 * the machine's context and events; `observedEvent` is its observation event's type.
 */
export const perClusterActions = <Phase extends string, Context extends PerClusterContext<Phase>, Event extends EventObject>(observedEvent: Event["type"]) => {
  // Each update looks at the event's type first: the machine's events include ClusterEvent's.
  const on = (update: (context: Context, event: ClusterEvent) => Change<Phase>) =>
    assign<Context, Event, undefined, Event, never>(({ context, event }) => update(context, event as unknown as ClusterEvent) as Partial<Context>)
  return {
    recordObservation: assign<Context, Event, undefined, Event, never>(({ context, event }) =>
      (event.type === observedEvent ? observed(context, event as unknown as Observation<Phase>) : {}) as Partial<Context>),
    addPendingCluster: on((context, event) => (event.type === "cluster.joined" ? joined(context, event.clusterId, "Pending" as Phase, event.at) : {})),
    addDeletingCluster: on((context, event) => (event.type === "cluster.joined" ? joined(context, event.clusterId, "Deleting" as Phase, event.at) : {})),
    dropCluster: on((context, event) => (event.type === "cluster.removed" ? dropped(context, event.clusterId, event.at) : {})),
    letClusterGo: on((context, event) =>
      (event.type === "cluster.removed" || event.type === "cluster.released" ? letGo(context, event.clusterId, event.reason, event.at) : {})),
    recordReachability: on((context, event) =>
      (event.type === "cluster.reachability" ? reachability(context, event.clusterId, event.reachable, event.at) : {})),
  }
}

/** A daemon's observation: applied to its cluster, or held until that cluster's join arrives. */
export const observed = <Phase extends string>(context: PerClusterContext<Phase>, o: Observation<Phase>): Change<Phase> => {
  const unclaimed = context.unclaimed ?? {}
  const held = holdUnclaimed(unclaimed, context.clusters, context.generation, o)
  if (held !== unclaimed) return { unclaimed: held }
  const clusters = applyObservation(context.clusters, context.generation, o)
  return clusters === context.clusters ? {} : { clusters, updatedAt: o.at }
}

/** A cluster joins as `phase` (Pending, or Deleting mid-deletion). */
export const joined = <Phase extends string>(context: PerClusterContext<Phase>, clusterId: ClusterId, phase: Phase, at: string): Change<Phase> => {
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

/**
 * Creation: `step` records the entity (its legacy row, its first desired state); a refusal
 * (quota, a name taken) is `rejected`, final, which the host rolls back and never persists.
 * The machine needs a `recordFailure` action.
 */
export const creation = <Step extends string, Context, Input>(step: Step, input: (args: { readonly context: Context }) => Input) => ({
  creating: {
    invoke: {
      id: step, src: step, input,
      onDone: { target: "live" },
      onError: refusedTo("rejected"),
    },
  },
  rejected: { type: "final" },
} as const)

/**
 * A deletion, the same for every entity: the generation is bumped and the deleted desired state
 * goes out (`requestDeletion`), then it waits until every cluster reports gone (or is let go),
 * then `finalizeDeletion`, then done. `observedEvent` is the machine's observation event;
 * `input` the steps' input (the deleted desired state).
 */
export const deletion = <Context, Input>(machineId: string, observedEvent: string, input: (args: { readonly context: Context }) => Input) => ({
  deleting: {
    initial: "requesting",
    on: {
      [observedEvent]: { actions: "recordObservation" },
      // A cluster that joins mid-deletion backfills the deleted desired state and reports Deleted.
      "cluster.joined": { actions: "addDeletingCluster" },
      "cluster.removed": { actions: "letClusterGo" },
      "cluster.released": { actions: "letClusterGo" },
      "cluster.reachability": { actions: "recordReachability" },
    },
    states: {
      requesting: {
        invoke: { id: "requestDeletion", src: "requestDeletion", input, onDone: { target: "waiting" } },
      },
      waiting: {
        always: { guard: "everyClusterDeleted", target: `#${machineId}.finalizing` },
      },
    },
  },
  finalizing: {
    invoke: { id: "finalizeDeletion", src: "finalizeDeletion", input, onDone: { target: "deleted" } },
  },
  deleted: { type: "final" },
} as const)

/** The per-cluster status as the API shows it: what the machine keeps only for itself (attempts, reachability) left out. */
export const clusterStatusesOf = <Phase extends string>(clusters: Clusters<Phase>) =>
  Object.fromEntries(Object.entries(clusters).map(([id, s]) => [id, {
    phase: s.phase, observedGeneration: s.observedGeneration, updatedAt: s.updatedAt,
    ...(s.reason === undefined ? {} : { reason: s.reason }),
    ...(s.conditions === undefined ? {} : { conditions: s.conditions }),
  }]))

/** The API phase of an entity's machine state (docs/api.md): the states `convergence` and `deletion` name. */
export const phaseOf = (snapshot: AnyMachineSnapshot): ProjectPhase =>
  snapshot.matches("deleted") ? "Deleted"
  : snapshot.matches("deleting") || snapshot.matches("finalizing") ? "Deleting"
  : snapshot.matches({ live: "ready" }) ? "Ready"
  : snapshot.matches({ live: "degraded" }) ? "Degraded"
  : "Provisioning"
