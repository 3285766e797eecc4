// Projects of an account: creating one (in ONE transaction through the actor host), reading,
// listing and deleting them; a project's deletion deletes its resources, in the same transaction.
import { Clock, Context, Effect, Layer } from "effect"
import { makeHost } from "../../machines/host.ts"
import { hostedProject, toProject } from "../../machines/project-steps.ts"
import { hostedResource } from "../../machines/resource-steps.ts"
import { NotFound, type DomainError, type Unavailable } from "../domain/errors.ts"
import { canAccessAccount, type AccountId, type Caller } from "../domain/account.ts"
import type { Project, ProjectId } from "../domain/project.ts"
import { ProjectReadModel, type Page } from "../services/project-read-model.ts"
import { ResourceReadModel } from "../services/resource-read-model.ts"
import { Transactions } from "../services/transactions.ts"
import { Accounts } from "./accounts.ts"
import { IdempotentRequests, type Idempotency } from "./idempotent-requests.ts"
import { layerContext } from "./layer-context.ts"
import { newProject, type NewProjectServices } from "./new-project.ts"

export class Projects extends Context.Service<Projects, {
  readonly createProject: (caller: Caller, accountId: AccountId, input: { name: string }, idempotency: Idempotency | undefined) => Effect.Effect<Project, DomainError>
  /** Another account's project answers NotFound, exactly like a missing one. */
  readonly getProject: (caller: Caller, projectId: ProjectId) => Effect.Effect<Project, NotFound | Unavailable>
  readonly listProjects: (caller: Caller, accountId: AccountId, page: { limit: number; cursor: string | undefined }) => Effect.Effect<Page<Project>, NotFound | Unavailable>
  /** Starts the deletion (202); a project already deleting or deleted is answered as it is. */
  readonly deleteProject: (caller: Caller, projectId: ProjectId) => Effect.Effect<Project, DomainError>
}>()("fabric/Projects") {
  static readonly layer = Layer.effect(Projects, Effect.gen(function* () {
    const provide = yield* layerContext<NewProjectServices | ResourceReadModel>()
    const readModel = yield* ProjectReadModel
    const resourceReadModel = yield* ResourceReadModel
    const transactions = yield* Transactions
    const accounts = yield* Accounts
    const idempotent = yield* IdempotentRequests
    const projects = makeHost(hostedProject)
    const resources = makeHost(hostedResource)

    const projectFor = (caller: Caller, projectId: ProjectId) =>
      Effect.gen(function* () {
        const project = yield* readModel.getProject(projectId)
        if (project === undefined || !canAccessAccount(caller, project.accountId)) return yield* new NotFound({ resource: "project", id: projectId })
        return project
      })

    const createProject = Effect.fn("Projects.createProject")(function* (caller: Caller, accountId: AccountId, input: { name: string }, idempotency: Idempotency | undefined) {
      yield* accounts.getAccount(caller, accountId)
      return yield* idempotent.once(
        `${accountId}:POST /v1/accounts/${accountId}/projects`, idempotency,
        newProject(accountId, input.name),
        (p) => p,
        (body) => body as Project,
      )
    }, provide)

    const getProject = Effect.fn("Projects.getProject")(projectFor)

    const listProjects = Effect.fn("Projects.listProjects")(function* (caller: Caller, accountId: AccountId, page: { limit: number; cursor: string | undefined }) {
      yield* accounts.getAccount(caller, accountId)
      return yield* readModel.listProjects(accountId, page)
    })

    const deleteProject = Effect.fn("Projects.deleteProject")(function* (caller: Caller, projectId: ProjectId) {
      const project = yield* projectFor(caller, projectId)
      if (project.phase === "Deleting" || project.phase === "Deleted") return project
      const at = new Date(yield* Clock.currentTimeMillis).toISOString()
      return yield* transactions.transactionally(Effect.gen(function* () {
        const deleting = toProject(yield* projects.send(projectId, { type: "project.delete", at }))
        // Read after the project's row is written (locked): a resource created meanwhile has
        // committed by now (its creation held the row) and is deleted too; later ones are refused.
        for (const resourceId of yield* resourceReadModel.liveResourceIds(projectId)) {
          yield* resources.send(resourceId, { type: "resource.delete", at })
        }
        return deleting
      }))
    }, provide)

    return Projects.of({ createProject, getProject, listProjects, deleteProject })
  }))
}
