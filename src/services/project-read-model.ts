import { Context, type Effect } from "effect"
import type { Unavailable } from "../domain/errors.ts"
import type { AccountId } from "../domain/account.ts"
import type { Project, ProjectId } from "../domain/project.ts"

export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly nextCursor: string | null
}

/** Projects as the API reads them (fabric.projects, fabric.project_clusters), written from the project actors' snapshots. */
export class ProjectReadModel extends Context.Service<ProjectReadModel, {
  /** Writes the read model of a project as the machine left it; only what differs from `before` (the model it was loaded with; undefined for a new project). */
  readonly saveProject: (project: Project, before: Project | undefined) => Effect.Effect<void, Unavailable>
  readonly getProject: (id: ProjectId) => Effect.Effect<Project | undefined, Unavailable>
  readonly listProjects: (accountId: AccountId, page: { limit: number; cursor: string | undefined }) => Effect.Effect<Page<Project>, Unavailable>
  readonly countProjects: () => Effect.Effect<number, Unavailable>
  /**
   * Inside a transaction: true when the project is live (not Deleting or Deleted), and then it
   * stays so until the transaction ends: its deletion waits (a row lock), so what is created in
   * the project now is seen by the deletion, which deletes it too.
   */
  readonly holdLiveProject: (id: ProjectId) => Effect.Effect<boolean, Unavailable>
}>()("fabric/ProjectReadModel") {}
