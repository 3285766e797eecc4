// A project: its namespace in every member cluster. Driven by RPC calls (create, delete) and by
// the daemons' observations; effects run as invoked steps provided by the host (machines/host.ts).
import { assign, setup, type SnapshotFrom } from "xstate"
import type { ProjectPhase } from "../src/domain/project.ts"
import { convergence, dropped, joined, letGo, nextGeneration, observed, reachability, type ClusterEvent } from "./per-cluster.ts"
import { everyClusterDeleted, everyClusterReady, pendingClusters, someClusterFailed, type Clusters, type Observation, type Unclaimed } from "./project-status.ts"
import { declareStep, toStepFailure, type StepFailure } from "./steps.ts"

export interface ProjectInput {
  readonly projectId: string
  readonly accountId: string
  readonly name: string
  readonly namespace: string
  readonly clusterIds: ReadonlyArray<string>
  /** Members that are Unreachable right now (a subset of clusterIds). */
  readonly unreachableClusterIds?: ReadonlyArray<string>
  readonly at: string
}

export interface ProjectContext {
  readonly projectId: string
  readonly accountId: string
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
  | ClusterEvent

/** What the steps need to write: the desired state every cluster should converge to. */
export interface DesiredStateInput {
  readonly projectId: string
  readonly accountId: string
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

export const projectMachine = setup({
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
    recordObservation: assign(({ context, event }) => (event.type === "project.observed" ? observed(context, event) : {})),
    addPendingCluster: assign(({ context, event }) => (event.type === "cluster.joined" ? joined(context, event.clusterId, "Pending", event.at) : {})),
    addDeletingCluster: assign(({ context, event }) => (event.type === "cluster.joined" ? joined(context, event.clusterId, "Deleting", event.at) : {})),
    dropCluster: assign(({ context, event }) => (event.type === "cluster.removed" ? dropped(context, event.clusterId, event.at) : {})),
    letClusterGo: assign(({ context, event }) =>
      (event.type === "cluster.removed" || event.type === "cluster.released" ? letGo(context, event.clusterId, event.reason, event.at) : {})),
    recordReachability: assign(({ context, event }) =>
      (event.type === "cluster.reachability" ? reachability(context, event.clusterId, event.reachable, event.at) : {})),
    beginDeletion: assign(({ context, event }) => nextGeneration(context, "Deleting", event.type === "project.delete" ? event.at : context.updatedAt)),
    recordFailure: assign((_, failure: StepFailure) => ({ failure })),
  },
}).createMachine({
  id: "project",
  context: ({ input }) => ({
    projectId: input.projectId, accountId: input.accountId, name: input.name, namespace: input.namespace,
    generation: 1, createdAt: input.at, updatedAt: input.at, clusters: pendingClusters(input.clusterIds, input.at, input.unreachableClusterIds),
  }),
  initial: "creating",
  states: {
    creating: {
      invoke: {
        id: "recordProject",
        src: "recordProject",
        input: ({ context }) => desired(context, false),
        onDone: { target: "live" },
        onError: { target: "rejected", actions: { type: "recordFailure", params: ({ event }) => toStepFailure(event.error) } },
      },
    },
    /** Creation refused (quota, conflict): the host rolls the transaction back; never persisted. */
    rejected: { type: "final" },
    live: {
      ...convergence,
      on: {
        "project.observed": { actions: "recordObservation" },
        "project.delete": { target: "deleting", actions: "beginDeletion" },
        "cluster.joined": { actions: "addPendingCluster" },
        "cluster.removed": { actions: "dropCluster" },
        "cluster.reachability": { actions: "recordReachability" },
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
        requesting: {
          invoke: {
            id: "requestDeletion",
            src: "requestDeletion",
            input: ({ context }) => desired(context, true),
            onDone: { target: "waiting" },
          },
        },
        waiting: {
          always: { guard: "everyClusterDeleted", target: "#project.finalizing" },
        },
      },
    },
    finalizing: {
      invoke: {
        id: "finalizeDeletion",
        src: "finalizeDeletion",
        input: ({ context }) => desired(context, true),
        onDone: { target: "deleted" },
      },
    },
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
