// Resources of a project: custom objects of the catalogued kinds. Creating one (in ONE transaction
// through the actor host, like a project), reading, listing, patching (JSON merge patch) and
// deleting them. A spec is checked against its kind's schema before anything is written, and a
// patch both before and after it is merged, so a bad one is a 400 naming the field.
import { Clock, Context, Effect, Layer } from "effect"
import { makeHost } from "../../machines/host.ts"
import { hostedResource, toResource } from "../../machines/resource-steps.ts"
import type { Caller } from "../domain/account.ts"
import { Conflict, InvalidRequest, NotFound, type DomainError, type Unavailable, type ValidationIssue } from "../domain/errors.ts"
import { specSchemaOf, type Kind } from "../domain/kind.ts"
import { jsonEqual } from "../domain/json.ts"
import { applyMergePatch } from "../domain/merge-patch.ts"
import type { ProjectId } from "../domain/project.ts"
import type { Resource, ResourceId, Spec } from "../domain/resource.ts"
import { checkValue } from "../domain/spec-schema.ts"
import { Ids } from "../services/ids.ts"
import { KindCatalogue } from "../services/kind-catalogue.ts"
import { ProjectReadModel, type Page } from "../services/project-read-model.ts"
import { ResourceReadModel } from "../services/resource-read-model.ts"
import { IdempotentRequests, type Idempotency } from "./idempotent-requests.ts"
import { layerContext } from "./layer-context.ts"
import { currentMembers, type NewProjectServices } from "./new-project.ts"
import { Projects } from "./projects.ts"

export interface NewResource {
  readonly kind: string
  /** A DNS-1123 label; `<kind in lowercase>-<6 random characters>` when absent. */
  readonly name?: string | undefined
  readonly spec: Spec
}

/** A JSON merge patch of the resource: only its spec can change. */
export interface ResourcePatch {
  readonly spec: Spec
}

const invalid = (message: string, issues: ReadonlyArray<ValidationIssue>) =>
  new InvalidRequest({ message: `${message}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues })

export class Resources extends Context.Service<Resources, {
  readonly createResource: (caller: Caller, projectId: ProjectId, input: NewResource, idempotency: Idempotency | undefined) => Effect.Effect<Resource, DomainError>
  /** Another account's resource (or one of another project) answers NotFound, exactly like a missing one. */
  readonly getResource: (caller: Caller, projectId: ProjectId, resourceId: ResourceId) => Effect.Effect<Resource, NotFound | Unavailable>
  readonly listResources: (caller: Caller, projectId: ProjectId, page: { limit: number; cursor: string | undefined }) => Effect.Effect<Page<Resource>, NotFound | Unavailable>
  /** A new generation when the merged spec differs; the resource as it is when it does not. */
  readonly patchResource: (caller: Caller, projectId: ProjectId, resourceId: ResourceId, patch: ResourcePatch) => Effect.Effect<Resource, DomainError>
  /** Starts the deletion (202); a resource already deleting or deleted is answered as it is. */
  readonly deleteResource: (caller: Caller, projectId: ProjectId, resourceId: ResourceId) => Effect.Effect<Resource, DomainError>
}>()("fabric/Resources") {
  static readonly layer = Layer.effect(Resources, Effect.gen(function* () {
    const provide = yield* layerContext<NewProjectServices | ResourceReadModel>()
    const catalogue = yield* KindCatalogue
    const readModel = yield* ResourceReadModel
    const projectReadModel = yield* ProjectReadModel
    const projects = yield* Projects
    const ids = yield* Ids
    const idempotent = yield* IdempotentRequests
    const resources = makeHost(hostedResource)
    const now = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms).toISOString()))

    const kindOf = (name: string): Effect.Effect<Kind, InvalidRequest> => {
      const kind = catalogue.find(name)
      return kind === undefined
        ? Effect.fail(invalid("invalid body", [{ path: "body.kind", message: `must be a kind of the catalogue: ${catalogue.kinds.map((k) => k.kind).join(", ")}` }]))
        : Effect.succeed(kind)
    }

    const resourceFor = (caller: Caller, projectId: ProjectId, resourceId: ResourceId) =>
      Effect.gen(function* () {
        yield* projects.getProject(caller, projectId)
        const resource = yield* readModel.getResource(resourceId)
        if (resource === undefined || resource.projectId !== projectId) return yield* new NotFound({ resource: "resource", id: resourceId })
        return resource
      })

    const createResource = Effect.fn("Resources.createResource")(function* (caller: Caller, projectId: ProjectId, input: NewResource, idempotency: Idempotency | undefined) {
      const kind = yield* kindOf(input.kind)
      const issues = checkValue(specSchemaOf(kind), input.spec, "body.spec")
      if (issues.length > 0) return yield* invalid(`invalid ${kind.kind} spec`, issues)
      const project = yield* projects.getProject(caller, projectId)
      return yield* idempotent.once(
        `${project.accountId}:POST /v1/projects/${projectId}/resources`, idempotency,
        Effect.gen(function* () {
          // Held to the commit: a deletion of the project waits, then deletes this resource too.
          if (!(yield* projectReadModel.holdLiveProject(projectId))) {
            return yield* new Conflict({ message: `project ${projectId} is being deleted: it takes no new resources` })
          }
          const resourceId = yield* ids.resourceId
          const name = input.name ?? (yield* ids.resourceName(kind.kind))
          const snapshot = yield* resources.create(resourceId, {
            resourceId, projectId, accountId: project.accountId, namespace: project.namespace, kind: kind.kind, name, spec: input.spec,
            at: yield* now, ...(yield* currentMembers),
          })
          return toResource(snapshot)
        }),
        (r) => r,
        (body) => body as Resource,
      )
    }, provide)

    const getResource = Effect.fn("Resources.getResource")(resourceFor)

    const listResources = Effect.fn("Resources.listResources")(function* (caller: Caller, projectId: ProjectId, page: { limit: number; cursor: string | undefined }) {
      yield* projects.getProject(caller, projectId)
      return yield* readModel.listResources(projectId, page)
    })

    const patchResource = Effect.fn("Resources.patchResource")(function* (caller: Caller, projectId: ProjectId, resourceId: ResourceId, patch: ResourcePatch) {
      const resource = yield* resourceFor(caller, projectId, resourceId)
      const kind = yield* kindOf(resource.kind)
      const schema = specSchemaOf(kind)
      const patchIssues = checkValue(schema, patch.spec, "body.spec", { patch: true })
      if (patchIssues.length > 0) return yield* invalid(`invalid merge patch of a ${kind.kind} spec`, patchIssues)
      // The merged spec must be a valid spec too: a patch may remove a required field.
      const merged = applyMergePatch(resource.spec, patch.spec)
      const mergedIssues = checkValue(schema, merged, "body.spec")
      if (mergedIssues.length > 0) {
        return yield* invalid(`the spec the merge patch leads to is not a valid ${kind.kind} spec`, mergedIssues.map((i) => ({ ...i, message: `after the merge: ${i.message}` })))
      }
      if (resource.phase === "Deleting" || resource.phase === "Deleted") return yield* new Conflict({ message: `resource ${resourceId} is being deleted: it cannot be patched` })
      if (jsonEqual(merged, resource.spec)) return resource
      return toResource(yield* resources.send(resourceId, { type: "resource.patch", patch: patch.spec, at: yield* now }))
    }, provide)

    const deleteResource = Effect.fn("Resources.deleteResource")(function* (caller: Caller, projectId: ProjectId, resourceId: ResourceId) {
      const resource = yield* resourceFor(caller, projectId, resourceId)
      if (resource.phase === "Deleting" || resource.phase === "Deleted") return resource
      return toResource(yield* resources.send(resourceId, { type: "resource.delete", at: yield* now }))
    }, provide)

    return Resources.of({ createResource, getResource, listResources, patchResource, deleteResource })
  }))
}
