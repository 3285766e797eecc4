// GET /readyz: this process can serve, i.e. it reaches its database. The answer also names the
// replica holding each singleton's lease (who relays the outbox, sweeps, prunes), so an operator
// asking any replica sees who does what.
import { Context, Effect, Layer } from "effect"
import type { Unavailable } from "../domain/errors.ts"
import { Leases } from "../services/leases.ts"
import { ProjectReadModel } from "../services/project-read-model.ts"
import { singletonLeases } from "./singletons.ts"

export interface ReadinessReport {
  /** This replica, as the lease holders name it. */
  readonly replica: string
  /** The holder of each singleton's lease, by lease; one between holders is missing. */
  readonly leases: Readonly<Record<string, string>>
}

export class Readiness extends Context.Service<Readiness, {
  /** Succeeds once the database answers; Unavailable while it does not. */
  readonly ready: Effect.Effect<ReadinessReport, Unavailable>
}>()("fabric/Readiness") {
  static readonly layer = Layer.effect(Readiness, Effect.gen(function* () {
    const readModel = yield* ProjectReadModel
    const leases = yield* Leases
    return Readiness.of({
      ready: Effect.gen(function* () {
        yield* readModel.countProjects()
        const holders = yield* leases.holders(singletonLeases)
        return { replica: leases.holder, leases: Object.fromEntries(holders.map((h) => [h.lease, h.holder])) }
      }),
    })
  }))
}
