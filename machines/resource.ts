// A resource: one custom object of a catalogued kind, in its project's namespace of every member
// cluster that serves the kind. Driven by RPC calls (create, patch, delete; a project's deletion
// deletes its resources) and by the daemons' observations; effects run as invoked steps provided
// by the host (machines/host.ts), like the project machine's, with the same per-cluster rules.
import { assign, setup, type SnapshotFrom } from "xstate"
import { jsonEqual } from "../src/domain/json.ts"
import { applyMergePatch } from "../src/domain/merge-patch.ts"
import type { AccountId } from "../src/domain/account.ts"
import type { ClusterId } from "../src/domain/cluster.ts"
import type { ProjectId } from "../src/domain/project.ts"
import type { ClusterResourcePhase, ResourceId, ResourcePhase } from "../src/domain/resource.ts"
import { convergence, creation, deletion, nextGeneration, perClusterActions, perClusterGuards, phaseOf, type ClusterEvent } from "./per-cluster.ts"
import { pendingClusters, type Clusters, type Observation, type Unclaimed } from "./project-status.ts"
import { declareStep, type StepFailure } from "./steps.ts"

export type Spec = Readonly<Record<string, unknown>>

/** What names a resource and what it asks of every cluster. */
interface ResourceDefinition {
  readonly resourceId: ResourceId
  readonly projectId: ProjectId
  readonly accountId: AccountId
  /** Its project's namespace, where its object lives in every cluster. */
  readonly namespace: string
  readonly kind: string
  readonly name: string
  readonly spec: Spec
}

export interface ResourceInput extends ResourceDefinition {
  /** The project's clusters when the resource is created (Unreachable ones flagged). */
  readonly clusterIds: ReadonlyArray<ClusterId>
  readonly unreachableClusterIds?: ReadonlyArray<ClusterId>
  readonly at: string
}

export interface ResourceContext extends ResourceDefinition {
  readonly generation: number
  readonly createdAt: string
  readonly updatedAt: string
  readonly clusters: Clusters<ClusterResourcePhase>
  readonly unclaimed?: Unclaimed<ClusterResourcePhase>
  readonly failure?: StepFailure
}

export type ResourceEvent =
  | ({ readonly type: "resource.observed" } & Observation<ClusterResourcePhase>)
  /**
   * A JSON merge patch of the spec (RFC 7386), validated by the API: merged here, on the spec as
   * it is now (a concurrent patch is never lost); a change of the spec is a new generation.
   */
  | { readonly type: "resource.patch"; readonly patch: Spec; readonly at: string }
  /** Deleted by the API, or with its project. */
  | { readonly type: "resource.delete"; readonly at: string }
  | ClusterEvent

/** What the steps write: the desired state every cluster should converge to. */
export interface DesiredResourceInput extends ResourceDefinition {
  readonly generation: number
  readonly deleted: boolean
  readonly at: string
}

const patched = (context: ResourceContext, patch: Spec) => applyMergePatch(context.spec, patch) as Spec

const desired = (context: ResourceContext, deleted: boolean): DesiredResourceInput => ({
  resourceId: context.resourceId, projectId: context.projectId, accountId: context.accountId, namespace: context.namespace,
  kind: context.kind, name: context.name, spec: context.spec, generation: context.generation, deleted, at: context.updatedAt,
})

export const resourceMachine = setup({
  types: {
    context: {} as ResourceContext,
    events: {} as ResourceEvent,
    input: {} as ResourceInput,
  },
  actors: {
    /** Legacy resource row (the account's resource quota, a unique name) and the first desired state in the outbox. */
    recordResource: declareStep<void, DesiredResourceInput>("recordResource"),
    /** The patched spec: legacy row and the new generation's desired state in the outbox. */
    recordSpec: declareStep<void, DesiredResourceInput>("recordSpec"),
    /** The desired state `deleted: true` in the outbox for every cluster's daemon. */
    requestDeletion: declareStep<void, DesiredResourceInput>("requestDeletion"),
    /** Marks the legacy row deleted (frees its quota slot and its name). */
    finalizeDeletion: declareStep<void, DesiredResourceInput>("finalizeDeletion"),
  },
  guards: {
    ...perClusterGuards,
    changesSpec: ({ context, event }) =>
      event.type === "resource.patch" && !jsonEqual(patched(context, event.patch), context.spec),
  },
  actions: {
    ...perClusterActions<ClusterResourcePhase, ResourceContext, ResourceEvent>("resource.observed"),
    // Every cluster catches up with the new spec; one that does not serve the kind says so again.
    applyPatch: assign(({ context, event }) =>
      (event.type === "resource.patch" ? { ...nextGeneration(context, "Pending", event.at), spec: patched(context, event.patch) } : {})),
    beginDeletion: assign(({ context, event }) => nextGeneration(context, "Deleting", event.type === "resource.delete" ? event.at : context.updatedAt)),
    recordFailure: assign((_, failure: StepFailure) => ({ failure })),
  },
}).createMachine({
  id: "resource",
  context: ({ input }) => ({
    resourceId: input.resourceId, projectId: input.projectId, accountId: input.accountId, namespace: input.namespace,
    kind: input.kind, name: input.name, spec: input.spec, generation: 1, createdAt: input.at, updatedAt: input.at,
    clusters: pendingClusters<ClusterResourcePhase>(input.clusterIds, input.at, input.unreachableClusterIds),
  }),
  initial: "creating",
  states: {
    ...creation("recordResource", ({ context }: { context: ResourceContext }) => desired(context, false)),
    live: {
      ...convergence,
      on: {
        "resource.observed": { actions: "recordObservation" },
        // A patch that leaves the spec as it is changes nothing (no new generation).
        "resource.patch": { guard: "changesSpec", target: "updating", actions: "applyPatch" },
        "resource.delete": { target: "deleting", actions: "beginDeletion" },
        "cluster.joined": { actions: "addPendingCluster" },
        "cluster.removed": { actions: "dropCluster" },
        "cluster.reachability": { actions: "recordReachability" },
      },
    },
    /** The new generation goes out; observations of the old one are ignored from here on. */
    updating: {
      invoke: {
        id: "recordSpec",
        src: "recordSpec",
        input: ({ context }) => desired(context, false),
        onDone: { target: "live" },
      },
    },
    ...deletion("resource", "resource.observed", ({ context }: { context: ResourceContext }) => desired(context, true)),
  },
})

/** The API phase for a machine state (docs/api.md). */
export const resourcePhaseOf = (snapshot: SnapshotFrom<typeof resourceMachine>): ResourcePhase => phaseOf(snapshot)
