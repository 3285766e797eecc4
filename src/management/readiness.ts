// GET /readyz: this process can serve, i.e. it reaches its database.
import { Context, Effect, Layer } from "effect"
import type { Unavailable } from "../domain/errors.ts"
import { ProjectReadModel } from "../services/project-read-model.ts"

export class Readiness extends Context.Service<Readiness, {
  /** Succeeds once a query answers; Unavailable while the database does not. */
  readonly ready: Effect.Effect<void, Unavailable>
}>()("fabric/Readiness") {
  static readonly layer = Layer.effect(Readiness, Effect.gen(function* () {
    const readModel = yield* ProjectReadModel
    return Readiness.of({ ready: readModel.countProjects().pipe(Effect.asVoid) })
  }))
}
