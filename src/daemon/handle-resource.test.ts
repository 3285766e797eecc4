// A resource's handling on its own, over a simulated cluster and a bus that only records what is
// published: a missing namespace is waited for quietly (no Failed report), a kind the cluster does
// not serve is Unavailable, a kind this daemon does not know is Unavailable (and Deleted once its
// resource is deleted: nothing of it can be here), and a project's deletion deletes its objects.
import { Effect, Fiber, Layer } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { defaultCrdDirectory, readCrdDirectory } from "../../adapters/catalogue/crd-files.ts"
import { layer as simulatedCluster, SimulatedClusterState } from "../../adapters/embedded/cluster.ts"
import { AccountId } from "../domain/account.ts"
import { encodeJson, topics, type DesiredNamespace, type DesiredResource, type ResourceObservation } from "../domain/messages.ts"
import { ProjectId } from "../domain/project.ts"
import { ResourceId } from "../domain/resource.ts"
import { Cluster } from "../services/cluster.ts"
import { EventBus, type BusMessage } from "../services/event-bus.ts"
import { KindCatalogue } from "../services/kind-catalogue.ts"
import { Metrics } from "../services/metrics.ts"
import { DesiredState } from "./desired-state.ts"
import { handleDesiredBatch, type HandlingOptions } from "./handle-desired.ts"
import { handleResourceBatch } from "./handle-resource.ts"
import { KeyedLock } from "./keyed-lock.ts"
import { discoverKinds, ServedKinds } from "./served-kinds.ts"

const options: HandlingOptions = { retryBase: "5 millis", retryCap: "20 millis", deletionPollMs: 5 }
const catalogue = await Effect.runPromise(readCrdDirectory(defaultCrdDirectory))

const res1 = ResourceId.make(`res_${"a".repeat(20)}`)
const res2 = ResourceId.make(`res_${"b".repeat(20)}`)
const project: DesiredNamespace = { projectId: ProjectId.make(`prj_${"a".repeat(20)}`), accountId: AccountId.make(`acc_${"a".repeat(20)}`), namespace: "prj-one-abc123", generation: 1, deleted: false }
const resource = (overrides: Partial<DesiredResource> = {}): DesiredResource => ({
  resourceId: res1, projectId: project.projectId, accountId: project.accountId, namespace: project.namespace,
  kind: "KupoPort", name: "indexer", generation: 1, spec: { network: "preprod", pruneUtxo: true }, deleted: false, ...overrides,
})

let offset = 0
const message = (topic: string, key: string, value: unknown): BusMessage =>
  ({ topic, partition: 0, offset: String(offset++), key, value: encodeJson(value), headers: {} })

const setup = (unservedKinds: ReadonlyArray<string> = []) => {
  const state = new SimulatedClusterState({ terminatingMs: 0, unservedKinds })
  const published: Array<ResourceObservation | DesiredNamespace> = []
  const bus = Layer.succeed(EventBus, EventBus.of({
    publish: (_topic, messages) => Effect.sync(() => { for (const m of messages) published.push(JSON.parse(m.value!)) }),
    ensureTopics: () => Effect.die("not used"), subscribe: () => Effect.die("not used"), readAll: () => Effect.die("not used"), lag: () => Effect.die("not used"), lags: () => Effect.die("not used"),
    fencedPublisher: () => Effect.die("not used"),
  }))
  const run = <A, E>(effect: Effect.Effect<A, E, Cluster | EventBus | Metrics | KindCatalogue>) =>
    Effect.runPromise(effect.pipe(Effect.provide(Layer.mergeAll(simulatedCluster({ id: "sim", state }), bus, Metrics.layer, KindCatalogue.layerOf(catalogue)))))
  const desired = new DesiredState()
  const served = new ServedKinds()
  const locks = new KeyedLock()
  const reports = () => published.filter((p): p is ResourceObservation => "resourceId" in p).map((o) => `${o.phase}@${o.generation}${o.reason ? ` ${o.reason}` : ""}`)
  const handle = (d: DesiredResource) => handleResourceBatch([message(topics.resources, d.resourceId, d)], options, desired, served, locks)
  const handleProject = (d: DesiredNamespace) => handleDesiredBatch([message(topics.projects, d.projectId, d)], options, desired, locks)
  return { state, run, desired, served, reports, handle, handleProject }
}

test("a resource whose namespace is not there yet waits for it quietly, and is applied once the project's message made it", async () => {
  const { state, run, reports, handle, handleProject, served } = setup()
  await run(Effect.gen(function* () {
    yield* discoverKinds(served)
    const waiting = yield* Effect.forkChild(handle(resource()))
    yield* Effect.sleep(50)
    assert.equal(reports(), [], "nothing reported while the namespace is missing")
    yield* handleProject(project)
    yield* Fiber.join(waiting)
  }))
  assert.equal(reports(), ["Ready@1"])
  assert.equal(state.lookupObject("KupoPort", project.namespace, "indexer")?.spec, { network: "preprod", pruneUtxo: true })
})

test("a kind the cluster does not serve is Unavailable, nothing applied; its deletion is Deleted", async () => {
  const { state, run, reports, handle, handleProject, served } = setup(["KupoPort"])
  await run(Effect.gen(function* () {
    yield* handleProject(project)
    yield* handle(resource())
    yield* handle(resource({ generation: 2, deleted: true }))
  }))
  assert.equal(reports(), ["Unavailable@1 the cluster does not serve demeter.run/v1alpha1 KupoPort; looked at again when it does", "Deleted@2"])
  assert.is(served.discovered, true, "discovery ran before the first resource")
  assert.is(state.listObjects(undefined).length, 0)
})

test("a kind this daemon's catalogue lacks is Unavailable while live, Deleted once deleted", async () => {
  const { run, reports, handle, handleProject } = setup()
  await run(Effect.gen(function* () {
    yield* handleProject(project)
    yield* handle(resource({ kind: "OgmiosPort" }))
    yield* handle(resource({ kind: "OgmiosPort", generation: 2, deleted: true }))
  }))
  assert.equal(reports(), ["Unavailable@1 kind OgmiosPort is not in this daemon's catalogue (deploy/crds)", "Deleted@2"])
})

test("a project's deletion deletes its objects, reports those whose deletion it knows, then deletes the namespace", async () => {
  const { state, run, reports, handle, handleProject } = setup()
  await run(Effect.gen(function* () {
    yield* handleProject(project)
    yield* handle(resource())
    yield* handle(resource({ resourceId: res2, kind: "CardanoNodePort", name: "relay", spec: { network: "preprod", version: "10.1" } }))
    yield* handle(resource({ resourceId: res2, kind: "CardanoNodePort", name: "relay", spec: { network: "preprod", version: "10.1" }, generation: 2, deleted: true }))
    // Put back by hand after its deletion: the project's deletion deletes it again.
    state.putObject({ kind: "CardanoNodePort", namespace: project.namespace, name: "relay", labels: { "app.kubernetes.io/managed-by": "fabric", "fabric.demeter.run/project": project.projectId, "fabric.demeter.run/resource": res2 }, annotations: {}, spec: {} })
    yield* handleProject({ ...project, generation: 2, deleted: true })
  }))
  assert.equal(reports(), ["Ready@1", "Ready@1", "Deleted@2", "Deleted@2"], "res_2 (its deletion known here) reported Deleted again by the project's deletion; res_1 is reported when its own deletion comes")
  assert.equal(state.listObjects(undefined), [])
  assert.is(state.lookup(project.namespace), undefined)
})

test.run()
