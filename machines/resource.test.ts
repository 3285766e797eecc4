// The resource machine, transition by transition, with its invoked steps as promises the test
// controls: what it shares with the project machine (convergence, deletion, membership) is held
// by machines/project.test.ts; here what a resource adds: Unavailable clusters, patches as new
// generations, the object's conditions.
import { test } from "uvu"
import * as assert from "uvu/assert"
import { createActor, fromPromise, waitFor, type Actor, type SnapshotFrom } from "xstate"
import { AccountId } from "../src/domain/account.ts"
import { ClusterId } from "../src/domain/cluster.ts"
import { ProjectId } from "../src/domain/project.ts"
import { ResourceId, type ClusterResourcePhase } from "../src/domain/resource.ts"
import type { Observation } from "./project-status.ts"
import { resourceMachine, resourcePhaseOf, type DesiredResourceInput, type ResourceEvent, type ResourceInput } from "./resource.ts"

type StepName = "recordResource" | "recordSpec" | "requestDeletion" | "finalizeDeletion"
type ResourceMachine = ReturnType<typeof resourceMachine.provide>
type ResourceSnapshot = SnapshotFrom<typeof resourceMachine>

const t0 = "2025-01-01T00:00:00.000Z"
const t1 = "2025-01-01T00:01:00.000Z"
const t2 = "2025-01-01T00:02:00.000Z"
const t3 = "2025-01-01T00:03:00.000Z"

const ids = { resourceId: ResourceId.make(`res_${"a".repeat(20)}`), projectId: ProjectId.make(`prj_${"a".repeat(20)}`), accountId: AccountId.make(`acc_${"a".repeat(20)}`) }

const input = (clusterIds: ReadonlyArray<string>): ResourceInput => ({
  ...ids, namespace: "prj-web-abcdef", kind: "KupoPort", name: "kupo", spec: { network: "mainnet", pruneUtxo: true }, clusterIds: clusterIds.map((id) => ClusterId.make(id)), at: t0,
})

const harness = (behaviour: Partial<Record<StepName, () => Promise<void>>> = {}) => {
  const calls: Array<[StepName, DesiredResourceInput]> = []
  const step = (name: StepName) => fromPromise<void, DesiredResourceInput>(async ({ input }) => {
    calls.push([name, input])
    await behaviour[name]?.()
  })
  const machine = resourceMachine.provide({
    actors: { recordResource: step("recordResource"), recordSpec: step("recordSpec"), requestDeletion: step("requestDeletion"), finalizeDeletion: step("finalizeDeletion") },
  })
  return { machine, calls }
}

const settle = (actor: Actor<ResourceMachine>) =>
  waitFor(actor, (s) => s.status !== "active" || Object.keys(s.children).length === 0, { timeout: 2_000 })

const created = async (clusterIds: ReadonlyArray<string>, behaviour: Partial<Record<StepName, () => Promise<void>>> = {}) => {
  const h = harness(behaviour)
  const actor = createActor(h.machine, { input: input(clusterIds) })
  actor.start()
  await settle(actor)
  return { ...h, actor }
}

const observed = (clusterId: string, generation: number, phase: Observation<ClusterResourcePhase>["phase"], at: string, extra: { reason?: string; conditions?: Observation["conditions"] } = {}): ResourceEvent =>
  ({ type: "resource.observed", clusterId: ClusterId.make(clusterId), generation, phase, at, ...extra })

const send = async (actor: Actor<ResourceMachine>, ...events: ResourceEvent[]) => {
  for (const event of events) actor.send(event)
  return settle(actor)
}

const phases = (s: ResourceSnapshot) => Object.fromEntries(Object.entries(s.context.clusters).map(([id, c]) => [id, c.phase]))

test("created: recordResource gets generation 1 with the spec; every member cluster Pending", async () => {
  const { actor, calls } = await created(["c1", "c2"])
  const s = actor.getSnapshot()
  assert.equal(s.value, { live: "provisioning" })
  assert.equal(calls, [["recordResource", {
    ...ids, namespace: "prj-web-abcdef", kind: "KupoPort", name: "kupo",
    spec: { network: "mainnet", pruneUtxo: true }, generation: 1, deleted: false, at: t0,
  }]])
  assert.equal(phases(s), { c1: "Pending", c2: "Pending" })
})

test("refused (quota, a name taken): rejected with the failure, never live", async () => {
  const { actor } = await created(["c1"], { recordResource: () => Promise.reject({ _tag: "QuotaExceeded", message: "quota of 2 resources" }) })
  assert.is(actor.getSnapshot().value, "rejected")
  assert.equal(actor.getSnapshot().context.failure, { _tag: "QuotaExceeded", message: "quota of 2 resources" })
})

test("a cluster that does not serve the kind (Unavailable) does not hold Ready back", async () => {
  const { actor } = await created(["c1", "c2", "c3"])
  await send(actor, observed("c1", 1, "Ready", t1), observed("c2", 1, "Ready", t1))
  let s = await send(actor, observed("c3", 1, "Unavailable", t2, { reason: "the cluster does not serve demeter.run/v1alpha1 KupoPort" }))
  assert.equal(s.value, { live: "ready" })
  assert.is(resourcePhaseOf(s), "Ready")
  assert.equal(s.context.clusters["c3"], { phase: "Unavailable", observedGeneration: 1, attempts: 0, updatedAt: t2, reason: "the cluster does not serve demeter.run/v1alpha1 KupoPort" })
  // The kind is installed there later: it reports Ready and the resource stays Ready.
  s = await send(actor, observed("c3", 1, "Ready", t3))
  assert.equal(phases(s), { c1: "Ready", c2: "Ready", c3: "Ready" })
  assert.is(resourcePhaseOf(s), "Ready")
})

test("no cluster serving the kind: Provisioning, never Ready on nothing", async () => {
  const { actor } = await created(["c1", "c2"])
  const s = await send(actor, observed("c1", 1, "Unavailable", t1), observed("c2", 1, "Unavailable", t1))
  assert.equal(s.value, { live: "provisioning" })
})

test("the object's conditions are kept per cluster, and a change of conditions alone is recorded", async () => {
  const { actor } = await created(["c1"])
  const ready = [{ type: "Ready", status: "True", reason: "Serving" }]
  let s = await send(actor, observed("c1", 1, "Ready", t1))
  s = await send(actor, observed("c1", 1, "Ready", t2, { conditions: ready }))
  assert.equal(s.context.clusters["c1"], { phase: "Ready", observedGeneration: 1, attempts: 0, updatedAt: t2, conditions: ready })
})

test("a patch is a new generation: recordSpec publishes it, every cluster Pending, reports of the old one ignored", async () => {
  const { actor, calls } = await created(["c1", "c2"])
  await send(actor, observed("c1", 1, "Ready", t1), observed("c2", 1, "Unavailable", t1))
  let s = await send(actor, { type: "resource.patch", patch: { pruneUtxo: false }, at: t2 })
  assert.equal(s.value, { live: "provisioning" })
  assert.is(s.context.generation, 2)
  assert.equal(s.context.spec, { network: "mainnet", pruneUtxo: false })
  assert.equal(calls.at(-1), ["recordSpec", { ...calls[0]![1], spec: { network: "mainnet", pruneUtxo: false }, generation: 2, at: t2 }])
  assert.equal(phases(s), { c1: "Pending", c2: "Pending" })
  s = await send(actor, observed("c1", 1, "Ready", t3))
  assert.equal(phases(s), { c1: "Pending", c2: "Pending" }, "an observation of generation 1 is late")
  s = await send(actor, observed("c1", 2, "Ready", t3), observed("c2", 2, "Unavailable", t3))
  assert.equal(s.value, { live: "ready" })
})

test("a patch merges into the spec as it is now (RFC 7386); one that changes nothing is no new generation", async () => {
  const { actor, calls } = await created(["c1"])
  let s = await send(actor, { type: "resource.patch", patch: { pruneUtxo: true }, at: t1 })
  assert.equal(s.value, { live: "provisioning" })
  assert.is(s.context.generation, 1)
  await send(actor, { type: "resource.patch", patch: { throughputTier: 2 }, at: t1 })
  s = await send(actor, { type: "resource.patch", patch: { network: "preview", throughputTier: null }, at: t2 })
  assert.equal(s.context.spec, { network: "preview", pruneUtxo: true })
  assert.is(s.context.generation, 3)
  assert.equal(calls.map(([name, i]) => [name, i.generation]), [["recordResource", 1], ["recordSpec", 2], ["recordSpec", 3]])
})

test("deletion: the deleted desired state goes out, Deleted once every cluster reports gone (an Unavailable one too), then finalized", async () => {
  const { actor, calls } = await created(["c1", "c2"])
  await send(actor, observed("c1", 1, "Ready", t1), observed("c2", 1, "Unavailable", t1))
  let s = await send(actor, { type: "resource.delete", at: t2 })
  assert.equal(s.value, { deleting: "waiting" })
  assert.is(resourcePhaseOf(s), "Deleting")
  assert.equal(calls.at(-1)![0], "requestDeletion")
  assert.equal(calls.at(-1)![1].deleted, true)
  assert.is(calls.at(-1)![1].generation, 2)
  // A patch while deleting changes nothing.
  s = await send(actor, { type: "resource.patch", patch: { network: "preprod" }, at: t2 })
  assert.is(s.context.spec.network, "mainnet")
  s = await send(actor, observed("c1", 2, "Deleted", t3), observed("c2", 2, "Deleted", t3))
  assert.is(s.value, "deleted")
  assert.is(resourcePhaseOf(s), "Deleted")
  assert.equal(calls.map(([name]) => name), ["recordResource", "requestDeletion", "finalizeDeletion"])
})

test("a snapshot restored mid-patch runs recordSpec again (idempotent step), and the state survives JSON", async () => {
  const { actor } = await created(["c1"])
  await send(actor, { type: "resource.patch", patch: { network: "preview" }, at: t1 })
  const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()))
  const h = harness()
  const restored = createActor(h.machine, { snapshot: persisted, input: input(["unused"]) })
  restored.start()
  const s = await settle(restored)
  assert.equal(s.value, { live: "provisioning" })
  assert.is(s.context.generation, 2)
})

test.run()
