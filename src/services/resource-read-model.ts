import { Context, type Effect } from "effect"
import type { Unavailable } from "../domain/errors.ts"
import type { ProjectId } from "../domain/project.ts"
import type { Resource, ResourceId } from "../domain/resource.ts"
import type { Page } from "./project-read-model.ts"

/** Resources as the API reads them (fabric.resources, fabric.resource_clusters), written from the resource actors' snapshots. */
export class ResourceReadModel extends Context.Service<ResourceReadModel, {
  /** Writes the read model of a resource as the machine left it; only what differs from `before` (undefined for a new resource). */
  readonly saveResource: (resource: Resource, before: Resource | undefined) => Effect.Effect<void, Unavailable>
  readonly getResource: (id: ResourceId) => Effect.Effect<Resource | undefined, Unavailable>
  /** A project's resources (Deleted ones included), by creation. */
  readonly listResources: (projectId: ProjectId, page: { limit: number; cursor: string | undefined }) => Effect.Effect<Page<Resource>, Unavailable>
  /** The ids of a project's resources that are not being deleted (what a project's deletion deletes). */
  readonly liveResourceIds: (projectId: ProjectId) => Effect.Effect<ReadonlyArray<ResourceId>, Unavailable>
}>()("fabric/ResourceReadModel") {}
