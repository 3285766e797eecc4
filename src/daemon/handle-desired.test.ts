// The daemon's handling on its own, over a simulated cluster and a bus that only records what is
// published: a deletion following a Terminating namespace holds no apiserver permit (with ONE
// permit, another project is handled meanwhile), and of a project's queued generations only the
// newest is reconciled; a change done in the cluster whose report could not be published is not
// undone by the drift check before the handler's retry; a refusal reported Failed is followed by
// the outcome once the cluster shows it.
import { Effect, Exit, Fiber, Layer } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { layer as simulatedCluster, SimulatedClusterState } from "../../adapters/embedded/cluster.ts"
import { AccountId } from "../domain/account.ts"
import { encodeJson, topics, type DesiredNamespace, type NamespaceObservation } from "../domain/messages.ts"
import { ProjectId } from "../domain/project.ts"
import { Cluster } from "../services/cluster.ts"
import { KindCatalogue } from "../services/kind-catalogue.ts"
import { EventBus, EventBusUnavailable, type BusMessage, type KeyBatch } from "../services/event-bus.ts"
import { Metrics } from "../services/metrics.ts"
import { boundCalls } from "./call-bound.ts"
import { DesiredState } from "./desired-state.ts"
import { repairDrift } from "./drift.ts"
import { handleDesiredBatch, type HandlingOptions } from "./handle-desired.ts"
import { KeyedLock } from "./keyed-lock.ts"

const options: HandlingOptions = { retryBase: "5 millis", retryCap: "20 millis", deletionPollMs: 5 }

/** A valid project id (prj_ and 20 characters) that still says which project it is. */
const idOf = (project: string) => ProjectId.make(`prj_${project.padEnd(20, "z")}`)

const desired = (project: string, generation: number, deleted: boolean): DesiredNamespace =>
  ({ projectId: idOf(project), accountId: AccountId.make("acc_aaaaaaaaaaaaaaaaaaaa"), namespace: `prj-${project}-abc123`, generation, deleted })

let offset = 0
const message = (d: DesiredNamespace): BusMessage =>
  ({ topic: topics.projects, partition: 0, offset: String(offset++), key: d.projectId, value: encodeJson(d), headers: {} })

/** A bus that records observations (all the handler publishes here) and nothing else; `down` refuses them. */
const recordingBus = (published: NamespaceObservation[], bus: { down: boolean }) =>
  Layer.succeed(EventBus, EventBus.of({
    publish: (_topic, messages) =>
      bus.down
        ? Effect.fail(new EventBusUnavailable({ reason: "the broker is down" }))
        : Effect.sync(() => { for (const m of messages) published.push(JSON.parse(m.value!)) }),
    ensureTopics: () => Effect.die("not used"),
    fencedPublisher: () => Effect.die("not used"),
    subscribe: () => Effect.die("not used"),
    readAll: () => Effect.die("not used"),
    lag: () => Effect.die("not used"),
    lags: () => Effect.die("not used"),
  }))

const setup = (permits: number) => {
  const state = new SimulatedClusterState({ terminatingMs: 0 })
  const published: NamespaceObservation[] = []
  const bus = { down: false }
  const run = <A, E>(effect: Effect.Effect<A, E, Cluster | EventBus | Metrics | KindCatalogue>) =>
    Effect.gen(function* () {
      const bounded = boundCalls(yield* Cluster, permits)
      return yield* effect.pipe(Effect.provideService(Cluster, bounded))
    }).pipe(Effect.provide(Layer.mergeAll(simulatedCluster({ id: "sim", state }), recordingBus(published, bus), Metrics.layer, KindCatalogue.layerOf([]))))
  return { state, published, bus, run, known: new DesiredState(), projects: new KeyedLock() }
}

const drift = { reportPresent: false, repair: true, concurrency: 4 }

const story = (published: NamespaceObservation[]) => published.map((o) => `${o.projectId} ${o.phase}@${o.generation}`)

test("with one apiserver permit, a deletion waiting for Terminating lets another project be handled meanwhile", async () => {
  const { state, published, run, known, projects } = setup(1)
  const doomed = desired("doomed", 1, false)
  state.create(doomed.namespace, { labels: { "app.kubernetes.io/managed-by": "fabric", "fabric.demeter.run/project": doomed.projectId } })
  state.hold(doomed.namespace)
  const deletion: KeyBatch = [message({ ...doomed, generation: 2, deleted: true })]
  const creation: KeyBatch = [message(desired("other", 1, false))]
  await Effect.runPromise(run(Effect.gen(function* () {
    const following = yield* Effect.forkChild(handleDesiredBatch(deletion, options, known, projects))
    while (state.lookup(doomed.namespace)?.goneAt === undefined) yield* Effect.sleep(1)
    // A failure deadline (not a measurement): blocked behind the deletion, it would never finish.
    yield* handleDesiredBatch(creation, options, known, projects).pipe(
      Effect.timeoutOrElse({ duration: "30 seconds", orElse: () => Effect.die(new Error("the creation waited for the deletion")) }),
    )
    assert.equal(story(published), [`${idOf("other")} Ready@1`], "the creation finished while the deletion was still being followed")
    state.release(doomed.namespace)
    yield* Fiber.join(following)
  })))
  assert.equal(story(published), [`${idOf("other")} Ready@1`, `${idOf("doomed")} Deleted@2`])
  assert.is(state.lookup(doomed.namespace), undefined)
})

test("of a project's queued messages only the newest generation is reconciled; an older copy after it changes nothing", async () => {
  const { state, published, run, known, projects } = setup(4)
  const project = desired("queued", 1, false)
  const batch: KeyBatch = [message(project), message({ ...project, generation: 2, deleted: true }), message(project)]
  await Effect.runPromise(run(handleDesiredBatch(batch, options, known, projects)))
  assert.equal(story(published), [`${idOf("queued")} Deleted@2`])
  assert.is(state.lookup(project.namespace), undefined, "generation 1 was never created")
  // The outbox relay publishing generation 1 again later: superseded, the cluster untouched.
  await Effect.runPromise(run(handleDesiredBatch([message(project)], options, known, projects)))
  assert.equal(story(published), [`${idOf("queued")} Deleted@2`])
  assert.is(state.lookup(project.namespace), undefined)
})

test("a deletion done whose report could not be published: the drift check before the retry does not create the namespace again", async () => {
  const { state, published, bus, run, known, projects } = setup(4)
  const project = desired("unreported", 1, false)
  await Effect.runPromise(run(handleDesiredBatch([message(project)], options, known, projects)))
  assert.ok(state.lookup(project.namespace), "created")
  // The broker goes away: the namespace is deleted, the Deleted report cannot be sent, the message
  // stays uncommitted and its handling is tried again later (the lock is free in between).
  bus.down = true
  const deletion: KeyBatch = [message({ ...project, generation: 2, deleted: true })]
  const failed = await Effect.runPromiseExit(run(handleDesiredBatch(deletion, options, known, projects)))
  assert.ok(Exit.isFailure(failed), "the handling failed on the report")
  assert.is(state.lookup(project.namespace), undefined, "deleted in the cluster")
  // A drift pass in that gap: the project is being deleted, so its absence is what it should be.
  await Effect.runPromiseExit(run(repairDrift(known, projects, drift)))
  assert.is(state.lookup(project.namespace), undefined, "the drift check created the deleted project's namespace again")
  bus.down = false
  await Effect.runPromise(run(handleDesiredBatch(deletion, options, known, projects)))
  assert.equal(story(published), ["prj_unreportedzzzzzzzzzz Ready@1", "prj_unreportedzzzzzzzzzz Deleted@2"])
  assert.is(state.lookup(project.namespace), undefined)
})

test("a deletion refused while following Terminating (403: an apiserver whose RBAC is not ready yet): Deleted once the namespace is gone", async () => {
  const { state, published, run, known, projects } = setup(4)
  const project = desired("refuseddelete", 1, false)
  await Effect.runPromise(run(handleDesiredBatch([message(project)], options, known, projects)))
  state.hold(project.namespace)
  await Effect.runPromise(run(Effect.gen(function* () {
    const deleting = yield* Effect.forkChild(handleDesiredBatch([message({ ...project, generation: 2, deleted: true })], options, known, projects))
    while (state.lookup(project.namespace)?.goneAt === undefined) yield* Effect.sleep(1)
    state.refusing.set(project.namespace, "namespaces is forbidden")
    yield* Fiber.join(deleting)
  })))
  assert.equal(story(published), ["prj_refuseddeletezzzzzzz Ready@1", "prj_refuseddeletezzzzzzz Failed@2"])
  // The refusal passes and the namespace controller finishes: nothing will deliver that deletion
  // again (its message is committed), so the drift check must say so.
  state.refusing.clear()
  state.release(project.namespace)
  await Effect.runPromise(run(repairDrift(known, projects, drift)))
  assert.equal(story(published), ["prj_refuseddeletezzzzzzz Ready@1", "prj_refuseddeletezzzzzzz Failed@2", "prj_refuseddeletezzzzzzz Deleted@2"])
  await Effect.runPromise(run(repairDrift(known, projects, drift)))
  assert.is(published.length, 3, "reported once")
})

test("a namespace in place whose last report was a refusal: Ready at the next drift check", async () => {
  const { state, published, run, known, projects } = setup(4)
  const project = desired("refusedensure", 1, false)
  await Effect.runPromise(run(handleDesiredBatch([message(project)], options, known, projects)))
  // The same generation delivered again (a restart before the commit), refused this time.
  state.refusing.set(project.namespace, "namespaces is forbidden")
  await Effect.runPromise(run(handleDesiredBatch([message(project)], options, known, projects)))
  assert.equal(story(published), ["prj_refusedensurezzzzzzz Ready@1", "prj_refusedensurezzzzzzz Failed@1"])
  state.refusing.clear()
  await Effect.runPromise(run(repairDrift(known, projects, drift)))
  assert.equal(story(published), ["prj_refusedensurezzzzzzz Ready@1", "prj_refusedensurezzzzzzz Failed@1", "prj_refusedensurezzzzzzz Ready@1"])
  await Effect.runPromise(run(repairDrift(known, projects, drift)))
  assert.is(published.length, 3, "reported once")
})

test.run()
