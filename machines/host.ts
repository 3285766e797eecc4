// The actor host: loads an actor's snapshot, applies one event (or creates the actor), runs its
// invoked steps inside ONE transaction together with the snapshot and read-model writes, and
// stores the result with a compare-and-set on the snapshot version. No actor stays in memory
// between events (passivated at once), so memory does not grow with the number of projects, and
// correctness never depends on which replica applies an event: a concurrent writer makes the
// CAS fail and the event is applied again on the fresh snapshot.
import { Cause, Effect, Exit } from "effect"
import { createActor, fromPromise, waitFor, type AnyMachineSnapshot, type AnyStateMachine, type EventObject, type Snapshot, type StateValue } from "xstate"
import { NotFound, Unavailable, type DomainError } from "../src/domain/errors.ts"
import { ActorInspection } from "../src/services/actor-inspection.ts"
import { Changes } from "../src/services/changes.ts"
import { gauge, Metrics } from "../src/services/metrics.ts"
import { ActorSnapshots, SnapshotVersionConflict, type MachineKind } from "../src/services/actor-snapshots.ts"
import { Transactions } from "../src/services/transactions.ts"

/** What the host itself needs to run any machine (besides what the machine's steps need). */
export type HostServices = ActorSnapshots | Transactions | Changes | Metrics

export interface HostedMachine<R, StepInput> {
  readonly kind: MachineKind
  readonly machine: AnyStateMachine
  /** The Effect behind each invoked step the machine declares; every step of a machine takes the same input. */
  readonly steps: Readonly<Record<string, (input: StepInput) => Effect.Effect<unknown, DomainError, R>>>
  /**
   * Writes the read model for a settled snapshot, in the same transaction; `before` is the
   * snapshot it was loaded from (undefined for a new actor), so only what changed is written.
   */
  readonly project: (snapshot: AnyMachineSnapshot, before: AnyMachineSnapshot | undefined) => Effect.Effect<void, Unavailable, R>
  /** A snapshot in which the actor expects no more events (taken off the resume list). */
  readonly isDone: (snapshot: AnyMachineSnapshot) => boolean
}

/** Near 0 most of the time: an actor is in memory only while one event is applied to it. */
const residentActors = gauge("fabric_actors_resident", "Actors in memory now (restored to apply one event, passivated once it settles), by machine", ["machine"])

const hasRunningSteps = (snapshot: AnyMachineSnapshot) => Object.keys(snapshot.children).length > 0

const settleTimeoutMs = 60_000

/** A snapshot as `getPersistedSnapshot` wrote it, read back from the state store's JSON. */
type PersistedSnapshot = Snapshot<unknown> & { readonly value: StateValue; readonly context: unknown }

const isPersistedSnapshot = (stored: unknown): stored is PersistedSnapshot =>
  typeof stored === "object" && stored !== null && "status" in stored && "value" in stored && "context" in stored

/** The stored JSON as a snapshot; anything else is a corrupt row, a defect no retry can fix. */
const persisted = (stored: unknown): PersistedSnapshot => {
  if (isPersistedSnapshot(stored)) return stored
  throw new Error(`stored actor snapshot is not an xstate snapshot: ${JSON.stringify(stored)?.slice(0, 200)}`)
}

/** `settle`, counted in the resident-actors gauge while it runs. */
const runToSettled = <R, StepInput>(hosted: HostedMachine<R, StepInput>, start: { snapshot: PersistedSnapshot } | { input: unknown }, events: ReadonlyArray<EventObject>) =>
  Metrics.use((metrics) => Effect.acquireUseRelease(
    metrics.add(residentActors, { machine: hosted.kind }, 1),
    () => settle(hosted, start, events),
    () => metrics.add(residentActors, { machine: hosted.kind }, -1),
  ))

/**
 * Runs the actor from `start` (a restored snapshot or a fresh input), sends `events` one after
 * another, each once the actor has settled from the one before (exactly as if each had been
 * applied on its own), and waits until no invoked step is running. Steps run with the caller's Effect context (and so
 * inside its transaction); their typed failures are kept to be returned as they are.
 */
const settle = <R, StepInput>(hosted: HostedMachine<R, StepInput>, start: { snapshot: PersistedSnapshot } | { input: unknown }, events: ReadonlyArray<EventObject>) =>
  Effect.gen(function* () {
    const context = yield* Effect.context<R>()
    // Undefined unless FABRIC_STATELY_INSPECT=1 (src/processes/stately-inspect.ts).
    const inspect = yield* ActorInspection
    const failures: Array<DomainError> = []
    const defects: Array<string> = []
    const actors = Object.fromEntries(
      Object.entries(hosted.steps).map(([name, step]) => [
        name,
        fromPromise<unknown, StepInput>(async ({ input, signal }) => {
          const exit = await Effect.runPromiseExitWith(context)(step(input), { signal })
          if (Exit.isSuccess(exit)) return exit.value
          const error = Cause.findErrorOption(exit.cause)
          if (error._tag === "Some") {
            failures.push(error.value)
            throw error.value
          }
          defects.push(Cause.pretty(exit.cause))
          throw new Error(`step ${name} died`)
        }),
      ]),
    )
    const machine = hosted.machine.provide({ actors })
    const snapshot = yield* Effect.tryPromise({
      try: async (signal) => {
        const actor = createActor(machine, { ...("snapshot" in start ? { snapshot: start.snapshot } : { input: start.input }), inspect })
        actor.start()
        const settled = () => waitFor(actor, (s) => s.status !== "active" || !hasRunningSteps(s), { timeout: settleTimeoutMs, signal })
        try {
          let snapshot = await settled()
          for (const event of events) {
            if (snapshot.status !== "active") break
            actor.send(event)
            snapshot = await settled()
          }
          return snapshot
        } finally {
          actor.stop()
        }
      },
      // A step without an onError puts the actor in error and waitFor rejects: keep the step's own error.
      catch: (cause): DomainError => failures[0] ?? new Unavailable({ message: `${hosted.kind} actor did not settle: ${(cause as Error).message}` }),
    })
    if (defects.length > 0 || snapshot.status === "error") {
      return yield* Effect.die(new Error(`${hosted.kind} actor failed: ${defects.join("\n") || String(snapshot.error)}`))
    }
    // A step refused (duplicate email, quota): the transaction must not commit anything.
    const refused = failures[0]
    if (refused !== undefined) return yield* Effect.fail(refused)
    return snapshot as AnyMachineSnapshot
  })

/** What an actor's history keeps of the events one save applied: the event, or all of them. */
const historyEntry = (events: ReadonlyArray<EventObject>): unknown => (events.length === 1 ? events[0] : { type: "batch", events })

export const makeHost = <R, StepInput>(hosted: HostedMachine<R, StepInput>) => {
  const restore = (snapshot: unknown) => hosted.machine.resolveState(persisted(snapshot)) as AnyMachineSnapshot

  /** The snapshot and its read model go out together (pipelined in the same transaction). */
  const save = (actorId: string, snapshot: AnyMachineSnapshot, before: { version: number; snapshot: AnyMachineSnapshot } | undefined, event: unknown) =>
    Effect.gen(function* () {
      const snapshots = yield* ActorSnapshots
      yield* Effect.all([
        snapshots.saveSnapshot({
          actorId, machine: hosted.kind, expectedVersion: before?.version, event, state: snapshot.value,
          status: hosted.isDone(snapshot) ? "done" : "active",
          snapshot: hosted.machine.getPersistedSnapshot(snapshot),
        }),
        hosted.project(snapshot, before?.snapshot),
      ], { concurrency: "unbounded", discard: true })
    })

  /**
   * Creates the actor. Ids are fresh, so no load comes first: the insert itself finds an id that
   * exists already, and then the stored actor is returned unchanged (nothing of this try commits).
   */
  const create = (actorId: string, input: unknown) =>
    Effect.gen(function* () {
      const snapshots = yield* ActorSnapshots
      const transactions = yield* Transactions
      const snapshot = yield* transactions.transactionally(
        Effect.gen(function* () {
          const created = yield* runToSettled(hosted, { input }, [])
          yield* save(actorId, created, undefined, { type: "created", input })
          return created
        }),
      ).pipe(
        Effect.catchTag("SnapshotVersionConflict", () =>
          snapshots.loadSnapshot(actorId).pipe(Effect.flatMap((existing) => existing === undefined
            ? Effect.fail(new Unavailable({ message: `actor ${actorId} could not be created; try again` }))
            : Effect.succeed(restore(existing.snapshot))))),
      )
      yield* (yield* Changes).notify(actorId)
      return snapshot
    }).pipe(Effect.withSpan(`ActorHost.create.${hosted.kind}`, { attributes: { actorId } }))

  /**
   * Applies events in order in ONE transaction: one load, one save (and one history row) however
   * many events; retried on a concurrent save (compare-and-set on the version). Inside a caller's
   * transaction (a membership notice's chunk, a project's deletion with its resources) each try is
   * a savepoint: a try that lost the compare-and-set leaves no read-model write behind (its save
   * and read model go out together), which the next try, diffing against the fresh snapshot,
   * would never correct.
   */
  const sendAll = (actorId: string, events: ReadonlyArray<EventObject & Readonly<Record<string, unknown>>>) =>
    Effect.gen(function* () {
      const snapshots = yield* ActorSnapshots
      const transactions = yield* Transactions
      const outcome = yield* transactions.undoable(
        Effect.gen(function* () {
          const stored = yield* snapshots.loadSnapshot(actorId)
          if (stored === undefined) return yield* new NotFound({ resource: hosted.kind, id: actorId })
          const next = yield* runToSettled(hosted, { snapshot: persisted(stored.snapshot) }, events)
          const changed = JSON.stringify(hosted.machine.getPersistedSnapshot(next)) !== JSON.stringify(stored.snapshot)
          if (changed) yield* save(actorId, next, { version: stored.version, snapshot: restore(stored.snapshot) }, historyEntry(events))
          return { snapshot: next, changed }
        }),
      ).pipe(
        Effect.retry({ while: (e) => e instanceof SnapshotVersionConflict, times: 20 }),
        Effect.catchIf((e): e is SnapshotVersionConflict => e instanceof SnapshotVersionConflict, (e) =>
          Effect.fail(new Unavailable({ message: `actor ${e.actorId} is contended; try again` }))),
      )
      if (outcome.changed) yield* (yield* Changes).notify(actorId)
      return outcome.snapshot
    }).pipe(Effect.withSpan(`ActorHost.send.${hosted.kind}`, { attributes: { actorId, events: events.length, event: events[0]?.type ?? "none" } }))

  /** Applies one event (see sendAll). */
  const send = (actorId: string, event: EventObject & Readonly<Record<string, unknown>>) => sendAll(actorId, [event])

  /** The stored snapshot, restored without running anything (for reads and resumption). */
  const load = (actorId: string) =>
    Effect.gen(function* () {
      const stored = yield* (yield* ActorSnapshots).loadSnapshot(actorId)
      return stored === undefined ? undefined : restore(stored.snapshot)
    })

  return { create, send, sendAll, load }
}

export type ActorHost = ReturnType<typeof makeHost>
