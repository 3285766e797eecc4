// The daemons' observations (fabric.status), applied to their projects' and resources' actors.
import { Context, Effect, Layer } from "effect"
import { makeHost, type HostServices } from "../../machines/host.ts"
import { hostedProject, type ProjectSteps } from "../../machines/project-steps.ts"
import { hostedResource, type ResourceSteps } from "../../machines/resource-steps.ts"
import type { DomainError } from "../domain/errors.ts"
import type { NamespaceObservation, ResourceObservation } from "../domain/messages.ts"
import type { ProjectId } from "../domain/project.ts"
import { layerContext } from "./layer-context.ts"

export class Observations extends Context.Service<Observations, {
  /**
   * Daemons' observations of ONE project, in the order they were published, applied in one
   * transaction (one load, one save); stale or duplicate ones change nothing (at-least-once).
   */
  readonly recordObservations: (projectId: ProjectId, observations: ReadonlyArray<NamespaceObservation>) => Effect.Effect<void, DomainError>
  /** The same for ONE resource's objects. */
  readonly recordResourceObservations: (resourceId: string, observations: ReadonlyArray<ResourceObservation>) => Effect.Effect<void, DomainError>
}>()("fabric/Observations") {
  static readonly layer = Layer.effect(Observations, Effect.gen(function* () {
    const provide = yield* layerContext<ProjectSteps | ResourceSteps | HostServices>()
    const projects = makeHost(hostedProject)
    const resources = makeHost(hostedResource)

    const recordObservations = Effect.fn("Observations.recordObservations")(function* (projectId: ProjectId, observations: ReadonlyArray<NamespaceObservation>) {
      yield* projects.sendAll(projectId, observations.map((o) => ({ type: "project.observed" as const, ...o, at: o.observedAt }))).pipe(
        Effect.catchTag("NotFound", () => Effect.logWarning("observations for an unknown project ignored", { projectId, count: observations.length })),
      )
    }, provide)

    const recordResourceObservations = Effect.fn("Observations.recordResourceObservations")(function* (resourceId: string, observations: ReadonlyArray<ResourceObservation>) {
      yield* resources.sendAll(resourceId, observations.map(({ resourceId: _, projectId: __, observedAt, ...o }) => ({ type: "resource.observed" as const, ...o, at: observedAt }))).pipe(
        Effect.catchTag("NotFound", () => Effect.logWarning("observations for an unknown resource ignored", { resourceId, count: observations.length })),
      )
    }, provide)

    return Observations.of({ recordObservations, recordResourceObservations })
  }))
}
