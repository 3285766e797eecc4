// The project machine, transition by transition, with its invoked steps provided as promises the
// test controls (resolved, rejected, or held open), and its persistence the way the host uses it.
import { test } from "uvu"
import * as assert from "uvu/assert"
import { createActor, fromPromise, waitFor, type Actor, type SnapshotFrom } from "xstate"
import { phaseOf, projectMachine, type DesiredStateInput, type ProjectEvent, type ProjectInput } from "./project.ts"
import type { Observation } from "./project-status.ts"
import { AccountId } from "../src/domain/account.ts"
import { ClusterId } from "../src/domain/cluster.ts"
import { ProjectId } from "../src/domain/project.ts"

type StepName = "recordProject" | "requestDeletion" | "finalizeDeletion"
type Behaviour = (input: DesiredStateInput) => Promise<void>
type ProjectMachine = ReturnType<typeof projectMachine.provide>
type ProjectActor = Actor<ProjectMachine>
type ProjectSnapshot = SnapshotFrom<typeof projectMachine>

const t0 = "2025-01-01T00:00:00.000Z"
const t1 = "2025-01-01T00:01:00.000Z"
const t2 = "2025-01-01T00:02:00.000Z"
const t3 = "2025-01-01T00:03:00.000Z"
const t4 = "2025-01-01T00:04:00.000Z"
const t5 = "2025-01-01T00:05:00.000Z"

const projectId = ProjectId.make(`prj_${"a".repeat(20)}`)
const accountId = AccountId.make(`acc_${"a".repeat(20)}`)

const input = (clusterIds: ReadonlyArray<string>): ProjectInput =>
  ({ projectId, accountId, name: "web", namespace: "acc-1-web", clusterIds: clusterIds.map((id) => ClusterId.make(id)), at: t0 })

/** A promise the test settles when it wants to (a step held mid-flight). */
const deferred = () => {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

/** The machine with every step recorded and, unless told otherwise, resolving at once. */
const harness = (behaviour: Partial<Record<StepName, Behaviour>> = {}) => {
  const calls: Record<StepName, DesiredStateInput[]> = { recordProject: [], requestDeletion: [], finalizeDeletion: [] }
  const log: StepName[] = []
  const step = (name: StepName) =>
    fromPromise<void, DesiredStateInput>(async ({ input }) => {
      calls[name].push(input)
      log.push(name)
      await behaviour[name]?.(input)
    })
  const machine = projectMachine.provide({
    actors: { recordProject: step("recordProject"), requestDeletion: step("requestDeletion"), finalizeDeletion: step("finalizeDeletion") },
  })
  return { machine, calls, log }
}

/** Like the host: wait until no invoked step is running (or the actor stopped). */
const settle = (actor: ProjectActor) =>
  waitFor(actor, (s) => s.status !== "active" || Object.keys(s.children).length === 0, { timeout: 2_000 })

const start = async (machine: ProjectMachine, clusterIds: ReadonlyArray<string>) => {
  const actor = createActor(machine, { input: input(clusterIds) })
  actor.start()
  await settle(actor)
  return actor
}

/** A created project (recordProject resolved), in live.provisioning unless it has no clusters. */
const created = async (clusterIds: ReadonlyArray<string>, behaviour: Partial<Record<StepName, Behaviour>> = {}) => {
  const h = harness(behaviour)
  const actor = await start(h.machine, clusterIds)
  return { ...h, actor }
}

const observed = (clusterId: string, generation: number, phase: Observation["phase"], at: string, reason?: string): ProjectEvent =>
  ({ type: "project.observed", clusterId: ClusterId.make(clusterId), generation, phase, at, ...(reason === undefined ? {} : { reason }) })

const send = async (actor: ProjectActor, ...events: ProjectEvent[]) => {
  for (const event of events) actor.send(event)
  return settle(actor)
}

const persisted = (actor: ProjectActor) => JSON.stringify(actor.getPersistedSnapshot())

const phases = (s: ProjectSnapshot) => Object.fromEntries(Object.entries(s.context.clusters).map(([id, c]) => [id, c.phase]))

// --- creating ------------------------------------------------------------------------------

test("creating: recordProject runs once with the first desired state; resolved → live.provisioning", async () => {
  const gate = deferred()
  const h = harness({ recordProject: () => gate.promise })
  const actor = createActor(h.machine, { input: input(["c1", "c2"]) })
  actor.start()
  let s = actor.getSnapshot()
  assert.is(s.value, "creating")
  assert.is(phaseOf(s), "Provisioning")
  assert.equal(Object.keys(s.children), ["recordProject"])
  assert.equal(h.calls.recordProject, [
    { projectId, accountId, name: "web", namespace: "acc-1-web", generation: 1, deleted: false, at: t0 },
  ])
  gate.resolve()
  s = await settle(actor)
  assert.equal(s.value, { live: "provisioning" })
  assert.is(s.status, "active")
  assert.is(phaseOf(s), "Provisioning")
  assert.equal(s.context, {
    projectId, accountId, name: "web", namespace: "acc-1-web",
    generation: 1, createdAt: t0, updatedAt: t0,
    clusters: {
      c1: { phase: "Pending", observedGeneration: 0, attempts: 0, updatedAt: t0 },
      c2: { phase: "Pending", observedGeneration: 0, attempts: 0, updatedAt: t0 },
    },
  })
  assert.is(s.context.failure, undefined)
  assert.equal(h.log, ["recordProject"])
})

test("creating → rejected (final) with the tagged failure when recordProject rejects", async () => {
  const { actor, calls } = await created(["c1"], {
    recordProject: () => Promise.reject({ _tag: "QuotaExceeded", message: "account acc-1 has 10 of 10 projects" }),
  })
  const s = actor.getSnapshot()
  assert.is(s.value, "rejected")
  assert.is(s.status, "done")
  assert.equal(s.context.failure, { _tag: "QuotaExceeded", message: "account acc-1 has 10 of 10 projects" })
  assert.is(calls.recordProject.length, 1)
  // never persisted (the host rolls back); phaseOf has no phase for it and falls through
  assert.is(phaseOf(s), "Provisioning")
  // final: nothing moves it any more
  actor.send(observed("c1", 1, "Ready", t1))
  actor.send({ type: "project.delete", at: t1 })
  assert.is(actor.getSnapshot().value, "rejected")
  assert.is(calls.requestDeletion.length, 0)
})

test("creating → rejected: an untagged error is recorded as a Defect", async () => {
  const { actor } = await created(["c1"], { recordProject: () => Promise.reject(new Error("boom")) })
  assert.is(actor.getSnapshot().value, "rejected")
  assert.equal(actor.getSnapshot().context.failure, { _tag: "Defect", message: "boom" })
})

test("creating: observations and a delete sent before recordProject resolves are not handled", async () => {
  const gate = deferred()
  const h = harness({ recordProject: () => gate.promise })
  const actor = createActor(h.machine, { input: input(["c1"]) })
  actor.start()
  actor.send(observed("c1", 1, "Ready", t1))
  actor.send({ type: "project.delete", at: t1 })
  assert.is(actor.getSnapshot().value, "creating")
  gate.resolve()
  const s = await settle(actor)
  assert.equal(s.value, { live: "provisioning" })
  assert.is(s.context.generation, 1)
  assert.is(s.context.clusters["c1"]!.phase, "Pending")
  assert.is(h.calls.requestDeletion.length, 0)
})

// --- live ------------------------------------------------------------------------------------

test("provisioning → ready when every cluster reports Ready for generation 1", async () => {
  const { actor } = await created(["c1", "c2"])
  await send(actor, observed("c1", 1, "Ready", t1))
  const s = await send(actor, observed("c2", 1, "Ready", t2))
  assert.equal(s.value, { live: "ready" })
  assert.is(phaseOf(s), "Ready")
  assert.equal(s.context.clusters, {
    c1: { phase: "Ready", observedGeneration: 1, attempts: 0, updatedAt: t1 },
    c2: { phase: "Ready", observedGeneration: 1, attempts: 0, updatedAt: t2 },
  })
  assert.is(s.context.updatedAt, t2)
  assert.is(s.context.generation, 1)
})

test("provisioning stays provisioning while some clusters are Ready (per-cluster status visible)", async () => {
  const { actor } = await created(["c1", "c2", "c3"])
  let s = await send(actor, observed("c1", 1, "Ready", t1))
  assert.equal(s.value, { live: "provisioning" })
  s = await send(actor, observed("c3", 1, "Ready", t2))
  assert.equal(s.value, { live: "provisioning" })
  assert.is(phaseOf(s), "Provisioning")
  assert.equal(phases(s), { c1: "Ready", c2: "Pending", c3: "Ready" })
  assert.equal(s.context.clusters["c2"], { phase: "Pending", observedGeneration: 0, attempts: 0, updatedAt: t0 })
  assert.is(s.context.updatedAt, t2)
})

test("provisioning → degraded on a Failed observation", async () => {
  const { actor } = await created(["c1", "c2"])
  await send(actor, observed("c1", 1, "Ready", t1))
  const s = await send(actor, observed("c2", 1, "Failed", t2, "Forbidden"))
  assert.equal(s.value, { live: "degraded" })
  assert.is(phaseOf(s), "Degraded")
  assert.equal(s.context.clusters["c2"], { phase: "Failed", observedGeneration: 1, attempts: 1, updatedAt: t2, reason: "Forbidden" })
  assert.is(s.context.clusters["c1"]!.phase, "Ready")
})

test("provisioning → degraded even when the other clusters are still Pending", async () => {
  const { actor } = await created(["c1", "c2"])
  const s = await send(actor, observed("c1", 1, "Failed", t1, "Timeout"))
  assert.equal(s.value, { live: "degraded" })
  assert.equal(phases(s), { c1: "Failed", c2: "Pending" })
})

test("degraded stays degraded while failures continue (attempts counted per distinct failure)", async () => {
  const { actor } = await created(["c1", "c2"])
  await send(actor, observed("c1", 1, "Failed", t1, "Timeout"))
  let s = await send(actor, observed("c1", 1, "Failed", t2, "Forbidden"))
  assert.equal(s.value, { live: "degraded" })
  assert.is(s.context.clusters["c1"]!.attempts, 2)
  s = await send(actor, observed("c2", 1, "Ready", t3))
  assert.equal(s.value, { live: "degraded" })
  s = await send(actor, observed("c2", 1, "Failed", t4, "Timeout"))
  assert.equal(s.value, { live: "degraded" })
  assert.equal(phases(s), { c1: "Failed", c2: "Failed" })
})

test("degraded → ready (recovery) when the failed cluster reports Ready", async () => {
  const { actor } = await created(["c1", "c2"])
  await send(actor, observed("c1", 1, "Ready", t1), observed("c2", 1, "Failed", t2, "Timeout"))
  assert.equal(actor.getSnapshot().value, { live: "degraded" })
  const s = await send(actor, observed("c2", 1, "Ready", t3))
  assert.equal(s.value, { live: "ready" })
  assert.is(phaseOf(s), "Ready")
  assert.equal(s.context.clusters["c2"], { phase: "Ready", observedGeneration: 1, attempts: 0, updatedAt: t3 })
})

test("degraded → provisioning when the failure clears but not every cluster is Ready", async () => {
  const { actor } = await created(["c1", "c2", "c3"])
  await send(actor, observed("c1", 1, "Ready", t1), observed("c2", 1, "Failed", t2, "Timeout"))
  assert.equal(actor.getSnapshot().value, { live: "degraded" })
  let s = await send(actor, observed("c2", 1, "Ready", t3))
  assert.equal(s.value, { live: "provisioning" })
  assert.is(phaseOf(s), "Provisioning")
  assert.equal(phases(s), { c1: "Ready", c2: "Ready", c3: "Pending" })
  s = await send(actor, observed("c3", 1, "Ready", t4))
  assert.equal(s.value, { live: "ready" })
})

test("ready → degraded when a cluster fails later", async () => {
  const { actor } = await created(["c1", "c2"])
  await send(actor, observed("c1", 1, "Ready", t1), observed("c2", 1, "Ready", t2))
  assert.equal(actor.getSnapshot().value, { live: "ready" })
  const s = await send(actor, observed("c1", 1, "Failed", t3, "NetworkError"))
  assert.equal(s.value, { live: "degraded" })
  assert.is(phaseOf(s), "Degraded")
  assert.equal(s.context.clusters["c1"], { phase: "Failed", observedGeneration: 1, attempts: 1, updatedAt: t3, reason: "NetworkError" })
})

test("ready → provisioning: never through Ready/Failed observations; only a Deleted one for the live generation", async () => {
  const { actor } = await created(["c1", "c2"])
  await send(actor, observed("c1", 1, "Ready", t1), observed("c2", 1, "Ready", t2))
  // Ready and Failed (of any generation) either keep it ready or make it degraded, never provisioning
  let s = await send(actor, observed("c1", 1, "Ready", t3), observed("c2", 2, "Failed", t3), observed("c1", 0, "Failed", t3))
  assert.equal(s.value, { live: "ready" })
  // The only way: a Deleted observation for the current generation. The daemon reports Deleted
  // only for a `deleted: true` desired state, which always carries a bumped generation, so this
  // does not happen in practice; the machine would then wait in provisioning, and since Deleted
  // stays Deleted for the generation, a later Ready from that cluster does not bring it back.
  s = await send(actor, observed("c1", 1, "Deleted", t4))
  assert.equal(s.value, { live: "provisioning" })
  assert.is(phaseOf(s), "Provisioning")
  s = await send(actor, observed("c1", 1, "Ready", t5))
  assert.equal(s.value, { live: "provisioning" })
  assert.equal(phases(s), { c1: "Deleted", c2: "Ready" })
})

test("a stale observation (generation 0 or 2 while at 1) changes nothing", async () => {
  const { actor } = await created(["c1", "c2"])
  await send(actor, observed("c1", 1, "Ready", t1))
  const before = actor.getSnapshot()
  const snapshotBefore = persisted(actor)
  for (const generation of [0, 2]) {
    for (const phase of ["Ready", "Failed", "Deleted"] as const) {
      const s = await send(actor, observed("c2", generation, phase, t3, "stale"), observed("c1", generation, phase, t3, "stale"))
      assert.equal(s.value, { live: "provisioning" }, `generation ${generation} ${phase}`)
      assert.is(s.context.clusters, before.context.clusters, `generation ${generation} ${phase}`)
      assert.equal(s.context, before.context)
    }
  }
  // what the host compares to decide whether to store a new snapshot
  assert.is(persisted(actor), snapshotBefore)
})

test("a stale Failed does not degrade a ready project", async () => {
  const { actor } = await created(["c1"])
  await send(actor, observed("c1", 1, "Ready", t1))
  const before = persisted(actor)
  const s = await send(actor, observed("c1", 0, "Failed", t2, "old"), observed("c1", 2, "Failed", t2, "future"))
  assert.equal(s.value, { live: "ready" })
  assert.is(persisted(actor), before)
})

test("a duplicate observation changes nothing (not even updatedAt); a non-member's is only held for its join", async () => {
  const { actor } = await created(["c1", "c2"])
  await send(actor, observed("c1", 1, "Failed", t1, "Timeout"))
  const before = persisted(actor)
  let s = await send(actor, observed("c1", 1, "Failed", t3, "Timeout"))
  assert.is(persisted(actor), before)
  s = await send(actor, observed("c9", 1, "Ready", t2))
  assert.equal(s.value, { live: "degraded" })
  assert.is(s.context.updatedAt, t1)
  assert.is(s.context.clusters["c1"]!.attempts, 1)
  assert.equal(Object.keys(s.context.clusters), ["c1", "c2"])
  assert.equal(s.context.unclaimed, { c9: { clusterId: "c9", generation: 1, phase: "Ready", at: t2 } })
})

// --- deleting --------------------------------------------------------------------------------

for (const [from, reach] of [
  ["provisioning", [] as ProjectEvent[]],
  ["ready", [observed("c1", 1, "Ready", t1), observed("c2", 1, "Ready", t1)]],
  ["degraded", [observed("c1", 1, "Ready", t1), observed("c2", 1, "Failed", t1, "Timeout")]],
] as const) {
  test(`live.${from} → deleting.requesting → deleting.waiting: generation 2, every cluster Deleting`, async () => {
    const gate = deferred()
    const { actor, calls } = await created(["c1", "c2"], { requestDeletion: () => gate.promise })
    await send(actor, ...reach)
    assert.equal(actor.getSnapshot().value, { live: from })
    actor.send({ type: "project.delete", at: t2 })
    let s = actor.getSnapshot()
    assert.equal(s.value, { deleting: "requesting" })
    assert.is(phaseOf(s), "Deleting")
    assert.is(s.context.generation, 2)
    assert.is(s.context.updatedAt, t2)
    assert.equal(phases(s), { c1: "Deleting", c2: "Deleting" })
    for (const c of Object.values(s.context.clusters)) {
      assert.is(c.updatedAt, t2)
      assert.is(c.attempts, 0)
    }
    assert.equal(calls.requestDeletion, [
      { projectId, accountId, name: "web", namespace: "acc-1-web", generation: 2, deleted: true, at: t2 },
    ])
    gate.resolve()
    s = await settle(actor)
    assert.equal(s.value, { deleting: "waiting" })
    assert.is(phaseOf(s), "Deleting")
    assert.is(calls.finalizeDeletion.length, 0)
  })
}

test("deleting: a second delete is ignored (no new generation, no second request)", async () => {
  const { actor, calls } = await created(["c1"])
  await send(actor, { type: "project.delete", at: t1 })
  const s = await send(actor, { type: "project.delete", at: t2 })
  assert.equal(s.value, { deleting: "waiting" })
  assert.is(s.context.generation, 2)
  assert.is(s.context.updatedAt, t1)
  assert.is(calls.requestDeletion.length, 1)
})

test("deleting: a late Ready for generation 1 is ignored", async () => {
  const { actor } = await created(["c1", "c2"])
  await send(actor, observed("c1", 1, "Ready", t1))
  await send(actor, { type: "project.delete", at: t2 })
  const before = persisted(actor)
  const s = await send(actor, observed("c2", 1, "Ready", t3), observed("c1", 1, "Failed", t3, "late"), observed("c1", 1, "Deleted", t3))
  assert.equal(s.value, { deleting: "waiting" })
  assert.equal(phases(s), { c1: "Deleting", c2: "Deleting" })
  assert.is(persisted(actor), before)
})

test("deleting.waiting → finalizing → deleted (final) once every cluster reports Deleted", async () => {
  const gate = deferred()
  const { actor, calls, log } = await created(["c1", "c2"], { finalizeDeletion: () => gate.promise })
  await send(actor, { type: "project.delete", at: t1 })
  let s = await send(actor, observed("c1", 2, "Deleted", t2))
  assert.equal(s.value, { deleting: "waiting" })
  assert.equal(phases(s), { c1: "Deleted", c2: "Deleting" })
  actor.send(observed("c2", 2, "Deleted", t3))
  s = actor.getSnapshot()
  assert.is(s.value, "finalizing")
  assert.is(phaseOf(s), "Deleting")
  assert.equal(calls.finalizeDeletion, [
    { projectId, accountId, name: "web", namespace: "acc-1-web", generation: 2, deleted: true, at: t3 },
  ])
  gate.resolve()
  s = await settle(actor)
  assert.is(s.value, "deleted")
  assert.is(s.status, "done")
  assert.is(phaseOf(s), "Deleted")
  assert.equal(phases(s), { c1: "Deleted", c2: "Deleted" })
  assert.equal(log, ["recordProject", "requestDeletion", "finalizeDeletion"])
  // final: nothing moves it any more
  actor.send({ type: "project.delete", at: t4 })
  assert.is(actor.getSnapshot().value, "deleted")
  assert.is(calls.requestDeletion.length, 1)
})

test("deleting: a Failed observation keeps it deleting; the cluster's later Deleted finishes it", async () => {
  const { actor, calls } = await created(["c1", "c2"])
  await send(actor, { type: "project.delete", at: t1 })
  let s = await send(actor, observed("c1", 2, "Deleted", t2), observed("c2", 2, "Failed", t2, "Forbidden"))
  assert.equal(s.value, { deleting: "waiting" })
  assert.is(phaseOf(s), "Deleting")
  assert.equal(s.context.clusters["c2"], { phase: "Failed", observedGeneration: 2, attempts: 1, updatedAt: t2, reason: "Forbidden" })
  assert.is(calls.finalizeDeletion.length, 0)
  s = await send(actor, observed("c2", 2, "Deleted", t3))
  assert.is(s.value, "deleted")
  assert.is(calls.finalizeDeletion.length, 1)
})

test("deleting.requesting: Deleted observations arriving before requestDeletion resolves count", async () => {
  const gate = deferred()
  const { actor, calls } = await created(["c1"], { requestDeletion: () => gate.promise })
  actor.send({ type: "project.delete", at: t1 })
  actor.send(observed("c1", 2, "Deleted", t2))
  assert.equal(actor.getSnapshot().value, { deleting: "requesting" })
  assert.is(calls.finalizeDeletion.length, 0)
  gate.resolve()
  const s = await settle(actor)
  assert.is(s.value, "deleted")
  assert.is(calls.finalizeDeletion.length, 1)
})

test("deleting: a failing requestDeletion or finalizeDeletion errors the actor (no onError; the host rolls back)", async () => {
  for (const failing of ["requestDeletion", "finalizeDeletion"] as const) {
    const { actor } = await created([], { [failing]: () => Promise.reject({ _tag: "Unavailable", message: "db down" }) })
    const errors: unknown[] = []
    actor.subscribe({ error: (e) => errors.push(e) })
    // waitFor (and so the host's settle) rejects with the step's error
    const settled = await send(actor, { type: "project.delete", at: t1 }).then(() => "settled", (e: unknown) => e)
    assert.equal(settled, { _tag: "Unavailable", message: "db down" }, failing)
    assert.is(actor.getSnapshot().status, "error", failing)
    assert.equal(errors, [{ _tag: "Unavailable", message: "db down" }], failing)
  }
})

// --- no clusters -----------------------------------------------------------------------------

test("zero clusters: Provisioning after creation (never Ready on nothing), and deletion goes straight through to deleted", async () => {
  const { actor, log, calls } = await created([])
  let s = actor.getSnapshot()
  assert.equal(s.value, { live: "provisioning" })
  assert.is(phaseOf(s), "Provisioning")
  assert.equal(s.context.clusters, {})
  s = await send(actor, { type: "project.delete", at: t1 })
  assert.is(s.value, "deleted")
  assert.is(s.status, "done")
  assert.is(phaseOf(s), "Deleted")
  assert.is(s.context.generation, 2)
  assert.equal(log, ["recordProject", "requestDeletion", "finalizeDeletion"])
  assert.is(calls.finalizeDeletion[0]!.generation, 2)
})

// --- persistence -----------------------------------------------------------------------------

const roundTrip = (actor: ProjectActor) => JSON.parse(JSON.stringify(actor.getPersistedSnapshot()))

/** createActor from a stored snapshot. xstate's types demand `input` even then; it is ignored. */
const restore = (machine: ProjectMachine, snapshot: unknown): ProjectActor =>
  createActor(machine, { snapshot: snapshot as never, input: input(["unused"]) })

test("persisted in degraded, JSON round-tripped and restored: continues exactly like the original", async () => {
  const { actor: original } = await created(["c1", "c2"])
  await send(original, observed("c1", 1, "Ready", t1), observed("c2", 1, "Failed", t2, "Timeout"))
  assert.equal(original.getSnapshot().value, { live: "degraded" })
  const stored = roundTrip(original)

  const h = harness()
  const restored = restore(h.machine, stored)
  restored.start()
  let s = restored.getSnapshot()
  assert.equal(s.value, { live: "degraded" })
  assert.is(phaseOf(s), "Degraded")
  assert.equal(s.context, original.getSnapshot().context)
  assert.equal(h.log, []) // a settled snapshot re-runs nothing

  const recovery = observed("c2", 1, "Ready", t3)
  const a = await send(original, recovery)
  s = await send(restored, recovery)
  assert.equal(s.value, { live: "ready" })
  assert.is(phaseOf(s), "Ready")
  assert.equal(s.context, a.context)
  assert.equal(restored.getPersistedSnapshot(), original.getPersistedSnapshot())
})

test("persisted in deleting.waiting and restored: finishes the deletion without requesting it again", async () => {
  const { actor: original } = await created(["c1"])
  await send(original, { type: "project.delete", at: t1 })
  const stored = roundTrip(original)
  original.stop()

  const h = harness()
  const restored = restore(h.machine, stored)
  restored.start()
  assert.equal(restored.getSnapshot().value, { deleting: "waiting" })
  assert.is(restored.getSnapshot().context.generation, 2)
  const s = await send(restored, observed("c1", 2, "Deleted", t2))
  assert.is(s.value, "deleted")
  assert.equal(h.log, ["finalizeDeletion"])
})

test("a snapshot persisted MID-invoke re-runs the step on restore (why every step must be idempotent)", async () => {
  const held = deferred()
  const first = harness({ recordProject: () => held.promise })
  const original = createActor(first.machine, { input: input(["c1"]) })
  original.start()
  assert.is(original.getSnapshot().value, "creating")
  const stored = roundTrip(original)
  assert.equal(Object.keys(stored.children), ["recordProject"])
  original.stop()

  const second = harness()
  const restored = restore(second.machine, stored)
  restored.start()
  const s = await settle(restored)
  assert.equal(s.value, { live: "provisioning" })
  // the step ran once before the snapshot and once more after the restore, with the same input
  assert.is(first.calls.recordProject.length, 1)
  assert.is(second.calls.recordProject.length, 1)
  assert.equal(second.calls.recordProject, first.calls.recordProject)
})

test("a snapshot persisted mid-requestDeletion re-runs requestDeletion on restore", async () => {
  const held = deferred()
  const first = await created(["c1"], { requestDeletion: () => held.promise })
  first.actor.send({ type: "project.delete", at: t1 })
  const stored = roundTrip(first.actor)
  first.actor.stop()

  const second = harness()
  const restored = restore(second.machine, stored)
  restored.start()
  const s = await settle(restored)
  assert.equal(s.value, { deleting: "waiting" })
  assert.equal(second.log, ["requestDeletion"])
  assert.equal(second.calls.requestDeletion, first.calls.requestDeletion)
  assert.is(second.calls.requestDeletion[0]!.generation, 2)
})

// --- fleet membership ----------------------------------------------------------------------

const joined = (clusterId: string, at: string): ProjectEvent => ({ type: "cluster.joined", clusterId: ClusterId.make(clusterId), at })
const removed = (clusterId: string, reason: string, at: string): ProjectEvent => ({ type: "cluster.removed", clusterId: ClusterId.make(clusterId), reason, at })
const released = (clusterId: string, reason: string, at: string): ProjectEvent => ({ type: "cluster.released", clusterId: ClusterId.make(clusterId), reason, at })
const reachability = (clusterId: string, reachable: boolean, at: string): ProjectEvent =>
  ({ type: "cluster.reachability", clusterId: ClusterId.make(clusterId), reachable, at })

test("cluster.joined in live.ready: the new cluster is Pending and the project Provisioning until it reports", async () => {
  const { actor } = await created(["c1"])
  let s = await send(actor, observed("c1", 1, "Ready", t1))
  assert.equal(s.value, { live: "ready" })
  s = await send(actor, joined("c2", t2))
  assert.equal(phases(s), { c1: "Ready", c2: "Pending" })
  assert.equal(s.value, { live: "provisioning" })
  s = await send(actor, joined("c2", t3)) // a repeated join changes nothing
  assert.is(s.context.updatedAt, t2)
  s = await send(actor, observed("c2", 1, "Ready", t4))
  assert.equal(s.value, { live: "ready" })
})

test("a report that arrives before its cluster's join is kept and applied when the join arrives", async () => {
  const { actor } = await created(["c1"])
  let s = await send(actor, observed("c1", 1, "Ready", t1), observed("c2", 1, "Ready", t2))
  assert.equal(phases(s), { c1: "Ready" })
  assert.equal(s.value, { live: "ready" })
  assert.equal(Object.keys(s.context.unclaimed ?? {}), ["c2"])
  s = await send(actor, joined("c2", t3))
  assert.equal(phases(s), { c1: "Ready", c2: "Ready" })
  assert.equal(s.context.unclaimed, {})
  assert.equal(s.value, { live: "ready" })
  // An unclaimed report for an older generation does not count once a deletion bumped it.
  s = await send(actor, observed("c3", 1, "Ready", t3), { type: "project.delete", at: t4 }, joined("c3", t5))
  assert.is(s.context.clusters.c3!.phase, "Deleting")
})

test("cluster.removed in live: the project stops waiting for it", async () => {
  const { actor } = await created(["c1", "c2"])
  let s = await send(actor, observed("c1", 1, "Ready", t1))
  assert.equal(s.value, { live: "provisioning" })
  s = await send(actor, removed("c2", "removed by the operator", t2))
  assert.equal(phases(s), { c1: "Ready" })
  assert.equal(s.value, { live: "ready" })
})

test("cluster.removed of the last member: a Ready project goes back to Provisioning, and is Ready again once a new cluster reports", async () => {
  const { actor } = await created(["c1"])
  let s = await send(actor, observed("c1", 1, "Ready", t1))
  assert.equal(s.value, { live: "ready" })
  s = await send(actor, removed("c1", "cluster c1 removed by the operator", t2))
  assert.equal(s.context.clusters, {})
  assert.equal(s.value, { live: "provisioning" })
  assert.is(phaseOf(s), "Provisioning")
  s = await send(actor, joined("c2", t3))
  assert.equal(s.value, { live: "provisioning" })
  s = await send(actor, observed("c2", 1, "Ready", t4))
  assert.equal(s.value, { live: "ready" })
})

test("only Unreachable members left: not Ready (nothing is known to exist); Ready again when one comes back", async () => {
  const { actor } = await created(["c1"])
  let s = await send(actor, observed("c1", 1, "Ready", t1), reachability("c1", false, t2))
  assert.equal(s.value, { live: "provisioning" })
  s = await send(actor, reachability("c1", true, t3))
  assert.equal(s.value, { live: "ready" })
})

test("cluster.reachability: an unreachable cluster does not hold Ready back, and counts again when it returns", async () => {
  const { actor } = await created(["c1", "c2"])
  let s = await send(actor, observed("c1", 1, "Ready", t1), reachability("c2", false, t2))
  assert.equal(s.value, { live: "ready" })
  s = await send(actor, reachability("c2", true, t3))
  assert.equal(s.value, { live: "provisioning" })
})

test("deleting: a removed or released cluster is let go with the reason, and the deletion finishes", async () => {
  const { actor, calls } = await created(["c1", "c2", "c3"])
  let s = await send(actor, { type: "project.delete", at: t1 }, observed("c1", 2, "Deleted", t2))
  assert.equal(s.value, { deleting: "waiting" })
  s = await send(actor, removed("c2", "cluster c2 removed by the operator", t3))
  assert.is(s.context.clusters.c2!.phase, "Deleted")
  assert.is(s.context.clusters.c2!.reason, "let go: cluster c2 removed by the operator")
  assert.equal(s.value, { deleting: "waiting" })
  s = await send(actor, released("c3", "cluster c3 unreachable for more than 600s", t4))
  assert.is(s.value, "deleted")
  assert.is(s.context.clusters.c3!.reason, "let go: cluster c3 unreachable for more than 600s")
  assert.is(calls.finalizeDeletion.length, 1)
})

test("cluster.joined while deleting: the new cluster is Deleting until it reports Deleted", async () => {
  const { actor } = await created(["c1"])
  let s = await send(actor, { type: "project.delete", at: t1 }, joined("c2", t2), observed("c1", 2, "Deleted", t3))
  assert.equal(phases(s), { c1: "Deleted", c2: "Deleting" })
  assert.equal(s.value, { deleting: "waiting" })
  s = await send(actor, observed("c2", 2, "Deleted", t4))
  assert.is(s.value, "deleted")
})

test.run()
