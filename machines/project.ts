// A project: its namespace in every member cluster. Driven by RPC calls (create, delete) and by
// the daemons' observations; effects run as invoked steps provided by the host (machines/host.ts).
import { assign, setup, type SnapshotFrom } from "xstate"
import type { AccountId } from "../src/domain/account.ts"
import type { ClusterId } from "../src/domain/cluster.ts"
import type { ClusterNamespacePhase, ProjectId, ProjectPhase } from "../src/domain/project.ts"
import { convergence, creation, deletion, nextGeneration, perClusterActions, perClusterGuards, phaseOf as entityPhaseOf, type ClusterEvent } from "./per-cluster.ts"
import { pendingClusters, type Clusters, type Observation, type Unclaimed } from "./project-status.ts"
import { declareStep, type StepFailure } from "./steps.ts"

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
  | ClusterEvent

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
  guards: perClusterGuards,
  actions: {
    ...perClusterActions<ClusterNamespacePhase, ProjectContext, ProjectEvent>("project.observed"),
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
    ...creation("recordProject", ({ context }: { context: ProjectContext }) => desired(context, false)),
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
    ...deletion("project", "project.observed", ({ context }: { context: ProjectContext }) => desired(context, true)),
  },
})

/** The API phase for a machine state (docs/api.md). */
export const phaseOf = (snapshot: SnapshotFrom<typeof projectMachine>): ProjectPhase => entityPhaseOf(snapshot)
