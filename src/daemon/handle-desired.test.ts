// The daemon's handling on its own, over a simulated cluster and a bus that only records what is
// published: a deletion following a Terminating namespace holds no apiserver permit (with ONE
// permit, another project is handled meanwhile), and of a project's queued generations only the
// newest is reconciled.
import { Effect, Fiber, Layer } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { layer as simulatedCluster, SimulatedClusterState } from "../../adapters/embedded/cluster.ts"
import { AccountId } from "../domain/account.ts"
import { encodeJson, topics, type DesiredNamespace, type NamespaceObservation } from "../domain/messages.ts"
import { ProjectId } from "../domain/project.ts"
import { Cluster } from "../services/cluster.ts"
import { EventBus, type BusMessage, type KeyBatch } from "../services/event-bus.ts"
import { Metrics } from "../services/metrics.ts"
import { boundCalls } from "./call-bound.ts"
import { DesiredState } from "./desired-state.ts"
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

/** A bus that records observations (all the handler publishes here) and nothing else. */
const recordingBus = (published: NamespaceObservation[]) =>
  Layer.succeed(EventBus, EventBus.of({
    publish: (_topic, messages) => Effect.sync(() => { for (const m of messages) published.push(JSON.parse(m.value!)) }),
    ensureTopics: () => Effect.die("not used"),
    fencedPublisher: () => Effect.die("not used"),
    subscribe: () => Effect.die("not used"),
    readAll: () => Effect.die("not used"),
    lag: () => Effect.die("not used"),
  }))

const setup = (permits: number) => {
  const state = new SimulatedClusterState({ terminatingMs: 0 })
  const published: NamespaceObservation[] = []
  const run = <A, E>(effect: Effect.Effect<A, E, Cluster | EventBus | Metrics>) =>
    Effect.gen(function* () {
      const bounded = boundCalls(yield* Cluster, permits)
      return yield* effect.pipe(Effect.provideService(Cluster, bounded))
    }).pipe(Effect.provide(Layer.mergeAll(simulatedCluster({ id: "sim", state }), recordingBus(published), Metrics.layer)))
  return { state, published, run, known: new DesiredState(), projects: new KeyedLock() }
}

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

test.run()
