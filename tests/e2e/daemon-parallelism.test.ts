// One partition (FABRIC_PARTITIONS=1), so every project is behind every other in each daemon's
// queue, on simulated clusters slowed down like a distant apiserver: a deletion whose namespace
// stays Terminating, or one project's apiserver errors, hold only that project; the creations
// behind it finish first, and heartbeats keep coming. The assertions are about the order of
// events, never about durations.
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk } from "../../rpc/client.ts"
import { isOwnedBy } from "../../src/services/cluster.ts"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"
import { createProject, deleteProject } from "../support/typed-api.ts"
import { waitFor } from "../support/wait-for.ts"

interface Ctx { fabric: TestFabric }

const parallel = suite<Ctx>("daemon: projects in parallel, each in order")
const clusterIds = ["sim-a", "sim-b", "sim-c"]
const slow = { latencyMs: 10 }

parallel.before.each(async (ctx) => {
  ctx.fabric = await startFabric({ env: { FABRIC_PARTITIONS: "1" }, clusters: Object.fromEntries(clusterIds.map((id) => [id, slow])) })
})
parallel.after.each(async (ctx) => {
  await ctx.fabric.stop()
})

let accounts = 0
const newAccount = async (fabric: TestFabric) => {
  const created = await expectOk(fabric.client.v1.accounts.$post({ json: { name: `Parallel ${++accounts}`, email: `parallel${accounts}@example.test` } }))
  return { accountId: created.account.id, first: await fabric.waitForProject(created.project.id, (p) => p.phase === "Ready") }
}

const lastSeen = async (fabric: TestFabric) =>
  new Map<string, string>((await expectOk(fabric.client.v1.clusters.$get())).clusters.map((c) => [c.id, c.lastSeenAt ?? ""]))

parallel("a deletion whose namespace stays Terminating does not hold up the creations behind it, nor the heartbeats", async (ctx) => {
  const { fabric } = ctx
  const { accountId, first } = await newAccount(fabric)
  // Contents with a finalizer: the namespace stays Terminating in every cluster until released.
  for (const state of fabric.states.values()) state.hold(first.namespace)
  await deleteProject(fabric.client, first.id)
  await waitFor("every daemon to have started the deletion", async () =>
    [...fabric.states.values()].every((s) => s.lookup(first.namespace)?.goneAt !== undefined) ? true : undefined, 30_000, 20)
  const seenAtDeletion = await lastSeen(fabric)

  // Published after the deletion, into the same (only) partition.
  const behind = [await createProject(fabric.client, accountId, "behind one"), await createProject(fabric.client, accountId, "behind two"), await createProject(fabric.client, accountId, "behind three")]
  for (const p of behind) {
    const ready = await fabric.waitForProject(p.id, (q) => q.phase === "Ready")
    for (const id of clusterIds) {
      assert.is(ready.clusters[id]!.phase, "Ready")
      assert.ok(isOwnedBy(fabric.states.get(id)!.lookup(p.namespace)?.labels, p.id), `${p.namespace} in ${id}`)
    }
  }
  // Heartbeats arrived while the deletion was under way (checked before it may finish).
  await waitFor("a heartbeat from every cluster during the deletion", async () => {
    const now = await lastSeen(fabric)
    return clusterIds.every((id) => now.get(id)! > seenAtDeletion.get(id)!) ? true : undefined
  }, 30_000, 50)

  // The deletion is still being followed, not given up: every cluster still shows it under way.
  const { project: pending } = await expectOk(fabric.client.v1.projects[":projectId"].$get({ param: { projectId: first.id } }))
  assert.is(pending.phase, "Deleting")
  for (const id of clusterIds) assert.is(pending.clusters[id]?.phase, "Deleting", `${id} reported before its namespace was gone`)
  for (const state of fabric.states.values()) assert.ok(state.lookup(first.namespace), "the namespace is still Terminating")

  for (const state of fabric.states.values()) state.release(first.namespace)
  const gone = await fabric.waitForProject(first.id, (p) => p.phase === "Deleted")
  for (const id of clusterIds) assert.is(gone.clusters[id]!.phase, "Deleted")
  for (const state of fabric.states.values()) assert.is(state.lookup(first.namespace), undefined)
})

parallel("more deletions waiting on Terminating namespaces than apiserver permits still leave room for a creation", async (ctx) => {
  await ctx.fabric.stop()
  // Two permits per daemon: the six deletions below outnumber them three to one.
  ctx.fabric = await startFabric({ env: { FABRIC_PARTITIONS: "1" }, clusters: Object.fromEntries(clusterIds.map((id) => [id, slow])), daemonConcurrency: 2 })
  const { fabric } = ctx
  const { accountId } = await newAccount(fabric)
  const doomed: Array<{ id: string; namespace: string }> = []
  for (let i = 0; i < 6; i++) doomed.push(await createProject(fabric.client, accountId, `doomed ${i}`))
  for (const p of doomed) await fabric.waitForProject(p.id, (q) => q.phase === "Ready")
  for (const p of doomed) for (const state of fabric.states.values()) state.hold(p.namespace)
  for (const p of doomed) await deleteProject(fabric.client, p.id)
  await waitFor("every daemon to have started every deletion", async () =>
    doomed.every((p) => [...fabric.states.values()].every((s) => s.lookup(p.namespace)?.goneAt !== undefined)) ? true : undefined, 30_000, 20)

  const fresh = await createProject(fabric.client, accountId, "fresh")
  const ready = await fabric.waitForProject(fresh.id, (q) => q.phase === "Ready")
  for (const id of clusterIds) assert.is(ready.clusters[id]!.phase, "Ready")
  // The deletions were all still being followed meanwhile.
  for (const p of doomed) for (const state of fabric.states.values()) assert.ok(state.lookup(p.namespace), `${p.namespace} still Terminating`)

  for (const p of doomed) for (const state of fabric.states.values()) state.release(p.namespace)
  for (const p of doomed) await fabric.waitForProject(p.id, (q) => q.phase === "Deleted")
})

parallel("an apiserver that keeps failing for one project's namespace holds only that project: it is retried and recovers", async (ctx) => {
  const { fabric } = ctx
  const { accountId } = await newAccount(fabric)
  const simB = fabric.states.get("sim-b")!
  simB.unavailableFor.set("prj-flaky-", "failed calling webhook: context deadline exceeded")
  const flaky = await createProject(fabric.client, accountId, "flaky")
  const behind = [await createProject(fabric.client, accountId, "after one"), await createProject(fabric.client, accountId, "after two")]

  const degraded = await fabric.waitForProject(flaky.id, (p) => p.phase === "Degraded")
  assert.match(degraded.clusters["sim-b"]!.reason ?? "", /failed calling webhook/)
  for (const p of behind) await fabric.waitForProject(p.id, (q) => q.phase === "Ready")
  // The projects behind it are done while the flaky one is still being retried.
  const { project: stillFlaky } = await expectOk(fabric.client.v1.projects[":projectId"].$get({ param: { projectId: flaky.id } }))
  assert.is(stillFlaky.clusters["sim-b"]?.phase, "Failed")
  assert.is(simB.lookup(flaky.namespace), undefined)

  simB.unavailableFor.clear()
  const healed = await fabric.waitForProject(flaky.id, (p) => p.phase === "Ready")
  assert.is(healed.clusters["sim-b"]!.phase, "Ready")
  assert.ok(isOwnedBy(simB.lookup(flaky.namespace)!.labels, flaky.id))
})

parallel.run()
