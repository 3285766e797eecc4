// The Effects behind the project machine's invoked steps, and its read model.
import { Effect } from "effect"
import type { AnyMachineSnapshot } from "xstate"
import { type DesiredNamespace, topics } from "../src/domain/messages.ts"
import type { Project } from "../src/domain/project.ts"
import { LegacyDemeter } from "../src/services/legacy-demeter.ts"
import type { Outbox } from "../src/services/outbox.ts"
import { ProjectReadModel } from "../src/services/project-read-model.ts"
import { Transactions } from "../src/services/transactions.ts"
import type { HostedMachine } from "./host.ts"
import { enqueueDesired } from "./outbox-desired.ts"
import { clusterStatusesOf } from "./per-cluster.ts"
import { phaseOf, projectMachine, type DesiredStateInput, type ProjectContext } from "./project.ts"

/** The outbox row that tells every cluster's daemon what this project should look like. */
const publishDesiredState = (input: DesiredStateInput) =>
  enqueueDesired(topics.projects, input.projectId, {
    projectId: input.projectId, accountId: input.accountId, namespace: input.namespace, generation: input.generation, deleted: input.deleted,
  } satisfies DesiredNamespace)

// The legacy write takes the account's row lock (its quota) and holds it until the commit: it
// runs last, right before the commit, so one account's creations wait for each other only that
// long. A refusal (quota, namespace taken) still rolls the whole transaction back.
const recordProject = Effect.fn("ProjectSteps.recordProject")(function* (input: DesiredStateInput) {
  yield* publishDesiredState(input)
  const legacy = yield* LegacyDemeter
  yield* (yield* Transactions).atCommit(legacy.createProject({
    id: input.projectId, accountId: input.accountId, name: input.name, namespace: input.namespace, createdAt: new Date(input.at),
  }))
})

const requestDeletion = Effect.fn("ProjectSteps.requestDeletion")(publishDesiredState)

const finalizeDeletion = Effect.fn("ProjectSteps.finalizeDeletion")(function* (input: DesiredStateInput) {
  yield* (yield* LegacyDemeter).markProjectDeleted(input.projectId, new Date(input.at))
})

/** The project as the API shows it, from a settled snapshot. */
export const toProject = (snapshot: AnyMachineSnapshot): Project => {
  const c = snapshot.context as ProjectContext
  return {
    id: c.projectId, accountId: c.accountId, name: c.name, namespace: c.namespace,
    phase: phaseOf(snapshot), generation: c.generation, createdAt: c.createdAt, updatedAt: c.updatedAt,
    clusters: clusterStatusesOf(c.clusters),
  }
}

/** What the project machine's steps and read model need. */
export type ProjectSteps = LegacyDemeter | Outbox | ProjectReadModel | Transactions

export const hostedProject: HostedMachine<ProjectSteps, DesiredStateInput> = {
  kind: "project",
  machine: projectMachine,
  steps: { recordProject, requestDeletion, finalizeDeletion },
  project: (snapshot, before) => ProjectReadModel.use((readModel) => readModel.saveProject(toProject(snapshot), before === undefined ? undefined : toProject(before))),
  isDone: (snapshot) => snapshot.status === "done",
}
