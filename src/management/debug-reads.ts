// What the /debug UI reads: the actors, and one actor's snapshot and event history.
import { Context, Effect, Layer } from "effect"
import { hostedAccount } from "../../machines/account-steps.ts"
import { makeHost } from "../../machines/host.ts"
import { hostedProject } from "../../machines/project-steps.ts"
import { NotFound, type Unavailable } from "../domain/errors.ts"
import { ActorSnapshots, type ActorEvent, type ActorSummary } from "../services/actor-snapshots.ts"
import { layerContext } from "./layer-context.ts"

export interface ActorDetail {
  readonly actorId: string
  readonly machine: "account" | "project"
  readonly value: unknown
  readonly status: string
  readonly context: unknown
  readonly history: ReadonlyArray<ActorEvent>
}

export class DebugReads extends Context.Service<DebugReads, {
  /** Actors, most recently changed first. */
  readonly listActors: (options: { machine?: "account" | "project"; limit: number }) => Effect.Effect<ReadonlyArray<ActorSummary>, Unavailable>
  /** One actor's snapshot (state and context) and its newest `historyLimit` events. */
  readonly actorDetail: (actorId: string, historyLimit: number) => Effect.Effect<ActorDetail, NotFound | Unavailable>
}>()("fabric/DebugReads") {
  static readonly layer = Layer.effect(DebugReads, Effect.gen(function* () {
    const provide = yield* layerContext<ActorSnapshots>()
    const snapshots = yield* ActorSnapshots
    const accounts = makeHost(hostedAccount)
    const projects = makeHost(hostedProject)

    const listActors = Effect.fn("DebugReads.listActors")(function* (options: { machine?: "account" | "project"; limit: number }) {
      return yield* snapshots.listActors(options)
    })

    const actorDetail = Effect.fn("DebugReads.actorDetail")(function* (actorId: string, historyLimit: number) {
      const host = actorId.startsWith("acc_") ? accounts : projects
      const snapshot = yield* host.load(actorId)
      if (snapshot === undefined) return yield* new NotFound({ resource: "actor", id: actorId })
      const history = yield* snapshots.actorHistory(actorId, historyLimit)
      return { actorId, machine: host === accounts ? "account" as const : "project" as const, value: snapshot.value, status: snapshot.status, context: snapshot.context as unknown, history }
    }, provide)

    return DebugReads.of({ listActors, actorDetail })
  }))
}
