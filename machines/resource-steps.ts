// The Effects behind the resource machine's invoked steps, and its read model.
import { Effect } from "effect"
import type { AnyMachineSnapshot } from "xstate"
import { AccountId } from "../src/domain/account.ts"
import { type DesiredResource, topics } from "../src/domain/messages.ts"
import { ProjectId } from "../src/domain/project.ts"
import { ResourceId, type Resource } from "../src/domain/resource.ts"
import { LegacyDemeter } from "../src/services/legacy-demeter.ts"
import type { Outbox } from "../src/services/outbox.ts"
import { ResourceReadModel } from "../src/services/resource-read-model.ts"
import { Transactions } from "../src/services/transactions.ts"
import type { HostedMachine } from "./host.ts"
import { enqueueDesired } from "./outbox-desired.ts"
import { clusterStatusesOf } from "./per-cluster.ts"
import { resourceMachine, resourcePhaseOf, type DesiredResourceInput, type ResourceContext } from "./resource.ts"

/** The outbox row (fabric.resources, key = resource id) that tells every daemon what this resource should look like. */
const publishDesiredResource = (input: DesiredResourceInput) =>
  enqueueDesired(topics.resources, input.resourceId, {
    resourceId: input.resourceId, projectId: input.projectId, accountId: input.accountId, namespace: input.namespace,
    kind: input.kind, name: input.name, generation: input.generation, spec: input.spec, deleted: input.deleted,
  } satisfies DesiredResource)

// As for a project, the legacy write (the account's row lock: its quota) runs right before the commit.
const recordResource = Effect.fn("ResourceSteps.recordResource")(function* (input: DesiredResourceInput) {
  yield* publishDesiredResource(input)
  const legacy = yield* LegacyDemeter
  yield* (yield* Transactions).atCommit(legacy.createResource({
    id: input.resourceId, accountId: input.accountId, projectId: input.projectId, kind: input.kind, name: input.name, spec: input.spec,
    createdAt: new Date(input.at),
  }))
})

const recordSpec = Effect.fn("ResourceSteps.recordSpec")(function* (input: DesiredResourceInput) {
  yield* publishDesiredResource(input)
  yield* (yield* LegacyDemeter).updateResourceSpec(input.resourceId, input.spec, new Date(input.at))
})

const requestDeletion = Effect.fn("ResourceSteps.requestDeletion")(publishDesiredResource)

const finalizeDeletion = Effect.fn("ResourceSteps.finalizeDeletion")(function* (input: DesiredResourceInput) {
  yield* (yield* LegacyDemeter).markResourceDeleted(input.resourceId, new Date(input.at))
})

/** The resource as the API shows it, from a settled snapshot. */
export const toResource = (snapshot: AnyMachineSnapshot): Resource => {
  const c = snapshot.context as ResourceContext
  return {
    id: ResourceId.make(c.resourceId), projectId: ProjectId.make(c.projectId), accountId: AccountId.make(c.accountId),
    kind: c.kind, name: c.name, spec: c.spec, phase: resourcePhaseOf(snapshot), generation: c.generation,
    createdAt: c.createdAt, updatedAt: c.updatedAt, clusters: clusterStatusesOf(c.clusters),
  }
}

/** What the resource machine's steps and read model need. */
export type ResourceSteps = LegacyDemeter | Outbox | ResourceReadModel | Transactions

export const hostedResource: HostedMachine<ResourceSteps, DesiredResourceInput> = {
  kind: "resource",
  machine: resourceMachine,
  steps: { recordResource, recordSpec, requestDeletion, finalizeDeletion },
  project: (snapshot, before) => ResourceReadModel.use((readModel) => readModel.saveResource(toResource(snapshot), before === undefined ? undefined : toResource(before))),
  isDone: (snapshot) => snapshot.status === "done",
}
