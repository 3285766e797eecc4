// A project: its namespace in every member cluster. Driven by RPC calls (create, delete) and by
// the daemons' observations; effects run as invoked steps provided by the host (machines/host.ts).
import { assign, setup, type SnapshotFrom } from "xstate"
import type { AccountId } from "../src/domain/account.ts"
import type { ClusterId } from "../src/domain/cluster.ts"
import type { ProjectId, ProjectPhase } from "../src/domain/project.ts"
import {
  applyObservation, everyClusterDeleted, holdUnclaimed, joinCluster, releaseCluster, removeCluster, setReachable, everyClusterReady, markAll, pendingClusters,
  someClusterFailed, type Clusters, type Observation, type Unclaimed,
} from "./project-status.ts"
import { declareStep, refusedTo, type StepFailure } from "./steps.ts"

export interface ProjectInput {
  readonly projectId: ProjectId
  readonly accountId: AccountId
  readonly name: string
  readonly namespace: string
  readonly clusterIds: ReadonlyArray<ClusterId>
  /** Members that are Unreachable right now (a subset of clusterIds). */
  readonly unreachableClusterIds?: ReadonlyArray<ClusterId>
  readonly at: string
}

export interface ProjectContext {
  readonly projectId: ProjectId
  readonly accountId: AccountId
  readonly name: string
  readonly namespace: string
  readonly generation: number
  readonly createdAt: string
  readonly updatedAt: string
  readonly clusters: Clusters
  /** Reports from clusters whose join has not arrived yet (absent in older snapshots). */
  readonly unclaimed?: Unclaimed
  readonly failure?: StepFailure
}

export type ProjectEvent =
  | ({ readonly type: "project.observed" } & Observation)
  | { readonly type: "project.delete"; readonly at: string }
  /** A cluster joined the fleet: the project gains it until its daemon reports. */
  | { readonly type: "cluster.joined"; readonly clusterId: ClusterId; readonly at: string }
  /** An operator removed the cluster: the project stops waiting for it. */
  | { readonly type: "cluster.removed"; readonly clusterId: ClusterId; readonly reason: string; readonly at: string }
  /** A deletion gives up on a cluster (unreachable past the deadline); the reason is kept. */
  | { readonly type: "cluster.released"; readonly clusterId: ClusterId; readonly reason: string; readonly at: string }
  /** The cluster stopped (or resumed) sending heartbeats. */
  | { readonly type: "cluster.reachability"; readonly clusterId: ClusterId; readonly reachable: boolean; readonly at: string }

/** What the steps need to write: the desired state every cluster should converge to. */
export interface DesiredStateInput {
  readonly projectId: ProjectId
  readonly accountId: AccountId
  readonly name: string
  readonly namespace: string
  readonly generation: number
  readonly deleted: boolean
  readonly at: string
}

const desired = (context: ProjectContext, deleted: boolean): DesiredStateInput => ({
  projectId: context.projectId, accountId: context.accountId, name: context.name, namespace: context.namespace,
  generation: context.generation, deleted, at: context.updatedAt,
})

const joined = (context: ProjectContext, clusterId: ClusterId, phase: "Pending" | "Deleting", at: string): Partial<ProjectContext> => {
  const next = joinCluster(context.clusters, context.unclaimed ?? {}, context.generation, clusterId, phase, at)
  return next.clusters === context.clusters ? {} : { clusters: next.clusters, unclaimed: next.unclaimed, updatedAt: at }
}

const project = setup({
  types: {
    context: {} as ProjectContext,
    events: {} as ProjectEvent,
    input: {} as ProjectInput,
  },
  actors: {
    /** Legacy project row (quota) and the first desired state in the outbox. */
    recordProject: declareStep<void, DesiredStateInput>("recordProject"),
    /** The desired state `deleted: true` in the outbox for every cluster's daemon. */
    requestDeletion: declareStep<void, DesiredStateInput>("requestDeletion"),
    /** Marks the legacy row deleted, the way the old version expects. */
    finalizeDeletion: declareStep<void, DesiredStateInput>("finalizeDeletion"),
  },
  guards: {
    everyClusterReady: ({ context }) => everyClusterReady(context.clusters, context.generation),
    someClusterFailed: ({ context }) => someClusterFailed(context.clusters),
    noClusterFailed: ({ context }) => !someClusterFailed(context.clusters),
    notEveryClusterReady: ({ context }) => !everyClusterReady(context.clusters, context.generation),
    everyClusterDeleted: ({ context }) => everyClusterDeleted(context.clusters),
  },
  actions: {
    recordObservation: assign(({ context, event }) => {
      if (event.type !== "project.observed") return {}
      const unclaimed = context.unclaimed ?? {}
      const held = holdUnclaimed(unclaimed, context.clusters, context.generation, event)
      if (held !== unclaimed) return { unclaimed: held }
      const clusters = applyObservation(context.clusters, context.generation, event)
      return clusters === context.clusters ? {} : { clusters, updatedAt: event.at }
    }),
    addPendingCluster: assign(({ context, event }) => {
      if (event.type !== "cluster.joined") return {}
      return joined(context, event.clusterId, "Pending", event.at)
    }),
    addDeletingCluster: assign(({ context, event }) => {
      if (event.type !== "cluster.joined") return {}
      return joined(context, event.clusterId, "Deleting", event.at)
    }),
    dropCluster: assign(({ context, event }) => {
      if (event.type !== "cluster.removed") return {}
      const clusters = removeCluster(context.clusters, event.clusterId)
      return clusters === context.clusters ? {} : { clusters, updatedAt: event.at }
    }),
    letClusterGo: assign(({ context, event }) => {
      if (event.type !== "cluster.removed" && event.type !== "cluster.released") return {}
      const clusters = releaseCluster(context.clusters, event.clusterId, event.reason, event.at)
      return clusters === context.clusters ? {} : { clusters, updatedAt: event.at }
    }),
    recordReachability: assign(({ context, event }) => {
      if (event.type !== "cluster.reachability") return {}
      const clusters = setReachable(context.clusters, event.clusterId, event.reachable)
      return clusters === context.clusters ? {} : { clusters, updatedAt: event.at }
    }),
    beginDeletion: assign(({ context, event }) => {
      const at = event.type === "project.delete" ? event.at : context.updatedAt
      return { generation: context.generation + 1, clusters: markAll(context.clusters, "Deleting", at), updatedAt: at }
    }),
    recordFailure: assign((_, failure: StepFailure) => ({ failure })),
  },
})

interface StepTransitions {
  /** The desired state the step writes: the namespace present, or deleted. */
  readonly deleted: boolean
  readonly then: string
  /** Where a refusal goes (the failure recorded); without it a failing step fails the actor. */
  readonly refused?: string
}

/** A state that runs one step (an invoke named after it) with the project's desired state. */
const stepState = (step: "recordProject" | "requestDeletion" | "finalizeDeletion", transitions: StepTransitions) =>
  project.createStateConfig({
    invoke: {
      id: step,
      src: step,
      input: ({ context }) => desired(context, transitions.deleted),
      onDone: { target: transitions.then },
      ...(transitions.refused === undefined ? {} : { onError: refusedTo(transitions.refused) }),
    },
  })

export const projectMachine = project.createMachine({
  id: "project",
  context: ({ input }) => ({
    projectId: input.projectId, accountId: input.accountId, name: input.name, namespace: input.namespace,
    generation: 1, createdAt: input.at, updatedAt: input.at, clusters: pendingClusters(input.clusterIds, input.at, input.unreachableClusterIds),
  }),
  initial: "creating",
  states: {
    creating: stepState("recordProject", { deleted: false, then: "live", refused: "rejected" }),
    /** Creation refused (quota, conflict): the host rolls the transaction back; never persisted. */
    rejected: { type: "final" },
    live: {
      initial: "provisioning",
      on: {
        "project.observed": { actions: "recordObservation" },
        "project.delete": { target: "deleting", actions: "beginDeletion" },
        "cluster.joined": { actions: "addPendingCluster" },
        "cluster.removed": { actions: "dropCluster" },
        "cluster.reachability": { actions: "recordReachability" },
      },
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
        /** Some cluster failed; its daemon keeps retrying and the project recovers on its own. */
        degraded: {
          always: [
            { guard: "everyClusterReady", target: "ready" },
            { guard: "noClusterFailed", target: "provisioning" },
          ],
        },
      },
    },
    deleting: {
      initial: "requesting",
      on: {
        "project.observed": { actions: "recordObservation" },
        // A cluster that joins mid-deletion backfills the deleted desired state and reports Deleted.
        "cluster.joined": { actions: "addDeletingCluster" },
        "cluster.removed": { actions: "letClusterGo" },
        "cluster.released": { actions: "letClusterGo" },
        "cluster.reachability": { actions: "recordReachability" },
      },
      states: {
        requesting: stepState("requestDeletion", { deleted: true, then: "waiting" }),
        waiting: {
          always: { guard: "everyClusterDeleted", target: "#project.finalizing" },
        },
      },
    },
    finalizing: stepState("finalizeDeletion", { deleted: true, then: "deleted" }),
    deleted: { type: "final" },
  },
})

/** The API phase for a machine state (docs/api.md). */
export const phaseOf = (snapshot: SnapshotFrom<typeof projectMachine>): ProjectPhase =>
  snapshot.matches("deleted") ? "Deleted"
  : snapshot.matches("deleting") || snapshot.matches("finalizing") ? "Deleting"
  : snapshot.matches({ live: "ready" }) ? "Ready"
  : snapshot.matches({ live: "degraded" }) ? "Degraded"
  : "Provisioning"
