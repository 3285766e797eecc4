// What the /debug UI reads: the actors, and one actor's snapshot and event history.
import { Context, Effect, Layer } from "effect"
import { hostedAccount } from "../../machines/account-steps.ts"
import { makeHost } from "../../machines/host.ts"
import { hostedProject } from "../../machines/project-steps.ts"
import { hostedResource } from "../../machines/resource-steps.ts"
import { NotFound, type Unavailable } from "../domain/errors.ts"
import { ActorSnapshots, type ActorEvent, type ActorSummary, type MachineKind } from "../services/actor-snapshots.ts"
import { layerContext } from "./layer-context.ts"

export interface ActorDetail {
  readonly actorId: string
  readonly machine: MachineKind
  readonly value: unknown
  readonly status: string
  readonly context: unknown
  readonly history: ReadonlyArray<ActorEvent>
}

export class DebugReads extends Context.Service<DebugReads, {
  /** Actors, most recently changed first. */
  readonly listActors: (options: { machine?: MachineKind; limit: number }) => Effect.Effect<ReadonlyArray<ActorSummary>, Unavailable>
  /** One actor's snapshot (state and context) and its newest `historyLimit` events. */
  readonly actorDetail: (actorId: string, historyLimit: number) => Effect.Effect<ActorDetail, NotFound | Unavailable>
}>()("fabric/DebugReads") {
  static readonly layer = Layer.effect(DebugReads, Effect.gen(function* () {
    const provide = yield* layerContext<ActorSnapshots>()
    const snapshots = yield* ActorSnapshots
    // An actor's id says its machine (acc_, prj_, res_).
    const hosts = { acc_: makeHost(hostedAccount), prj_: makeHost(hostedProject), res_: makeHost(hostedResource) }
    const machineOf = { acc_: "account", prj_: "project", res_: "resource" } as const

    const listActors = Effect.fn("DebugReads.listActors")(function* (options: { machine?: MachineKind; limit: number }) {
      return yield* snapshots.listActors(options)
    })

    const actorDetail = Effect.fn("DebugReads.actorDetail")(function* (actorId: string, historyLimit: number) {
      const prefix = (["acc_", "res_"] as const).find((p) => actorId.startsWith(p)) ?? "prj_"
      const snapshot = yield* hosts[prefix].load(actorId)
      if (snapshot === undefined) return yield* new NotFound({ resource: "actor", id: actorId })
      const history = yield* snapshots.actorHistory(actorId, historyLimit)
      return { actorId, machine: machineOf[prefix], value: snapshot.value, status: snapshot.status, context: snapshot.context as unknown, history }
    }, provide)

    return DebugReads.of({ listActors, actorDetail })
  }))
}
