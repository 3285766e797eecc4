// Retention (FABRIC_OUTBOX_RETENTION_SECONDS, FABRIC_HISTORY_KEEP, FABRIC_IDEMPOTENCY_RETENTION_SECONDS):
// a pass deletes exactly what the policy no longer keeps, in batches, and the actors, the relay
// and the debug history go on working on what is left.
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk } from "../../rpc/client.ts"
import { pruneAll } from "../../src/management/retention-job.ts"
import type { RetentionPolicy } from "../../src/services/retention.ts"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"
import { createProject, deleteProject, withIdempotencyKey } from "../support/typed-api.ts"
import { waitFor } from "../support/wait-for.ts"

const retention = suite<{ fabric: TestFabric; accountId: string; projectIds: string[] }>("retention")

retention.before(async (ctx) => {
  ctx.fabric = await startFabric()
  const created = await expectOk(ctx.fabric.client.v1.accounts.$post({ json: { name: "Keep", email: "keep@example.test" } }, withIdempotencyKey("keep-account")))
  ctx.accountId = created.account.id
  ctx.projectIds = [created.project.id]
  for (const name of ["one", "two", "three"]) ctx.projectIds.push((await expectOk(createWithKey(ctx.fabric, ctx.accountId, name, `keep-${name}`))).project.id)
  for (const id of ctx.projectIds) await ctx.fabric.waitForProject(id, (p) => p.phase === "Ready")
})
retention.after(async (ctx) => ctx.fabric.stop())

const createWithKey = (fabric: TestFabric, accountId: string, name: string, key: string) =>
  fabric.client.v1.accounts[":accountId"].projects.$post({ param: { accountId }, json: { name } }, withIdempotencyKey(key))

const prune = (fabric: TestFabric, policy: RetentionPolicy, batchSize: number) => fabric.runtime.runPromise(pruneAll(policy, batchSize))

const counts = async (fabric: TestFabric) => {
  const [row] = await fabric.sql(`select
    (select count(*)::int from fabric.outbox where sent_at is not null) as sent,
    (select count(*)::int from fabric.outbox where sent_at is null) as unsent,
    (select count(*)::int from fabric.actor_events) as history,
    (select count(*)::int from fabric.idempotency_keys) as keys`)
  return { ...row } as { sent: number; unsent: number; history: number; keys: number }
}

const waitUntilSent = (fabric: TestFabric) =>
  waitFor("the relay to send every outbox row", async () => ((await counts(fabric)).unsent === 0 ? true : undefined), 30_000, 25)

retention("the default policy deletes nothing young", async ({ fabric }) => {
  await waitUntilSent(fabric)
  const before = await counts(fabric)
  assert.ok(before.sent >= 4 && before.history > 4 && before.keys === 4, JSON.stringify(before))
  const pruned = await prune(fabric, { sentOutboxMs: 86_400_000, historyKeep: 100, idempotencyMs: 86_400_000 }, 1000)
  assert.equal(pruned, { outbox: 0, history: 0, idempotencyKeys: 0 })
  assert.equal(await counts(fabric), before)
})

retention("a pass keeps each actor's newest history rows and deletes the rest, batch after batch", async ({ fabric, projectIds }) => {
  const versions = async () => new Map((await fabric.sql(`select actor_id, array_agg(version order by version) as versions from fabric.actor_events group by actor_id`))
    .map((r: { actor_id: string; versions: number[] }) => [r.actor_id, r.versions.map(Number)]))
  const before = await versions()
  const keep = 2
  const expected = [...before.values()].reduce((n, vs) => n + Math.max(0, vs.length - keep), 0)
  assert.ok(expected > 3, `the setup leaves history to prune (${expected} rows)`)
  // A batch size of 3 makes the pass loop: it stops only after a batch that is not full.
  const pruned = await prune(fabric, { sentOutboxMs: 86_400_000, historyKeep: keep, idempotencyMs: 86_400_000 }, 3)
  assert.is(pruned.history, expected)
  const after = await versions()
  assert.equal([...after.keys()].sort(), [...before.keys()].sort())
  for (const [actor, vs] of before) assert.equal(after.get(actor), vs.slice(-keep), `${actor} keeps its newest ${keep}`)
  // The debug view shows the recent window that is left.
  const { actor } = await expectOk(fabric.client.debug.api.actors[":actorId"].$get({ param: { actorId: projectIds[0]! } }))
  assert.equal(actor.history.map((h) => h.version).sort((a, b) => a - b), after.get(projectIds[0]!))
})

retention("sent outbox rows go and unsent ones stay; the relay goes on from there", async (ctx) => {
  const { fabric, accountId } = ctx
  await waitUntilSent(fabric)
  const sentBefore = (await counts(fabric)).sent
  const pruned = await prune(fabric, { sentOutboxMs: 0, historyKeep: 100, idempotencyMs: 86_400_000 }, 2)
  assert.is(pruned.outbox, sentBefore)
  assert.is((await counts(fabric)).sent, 0)
  // A project created and deleted after the pass goes through the relay and the daemons as usual.
  const created = await createProject(fabric.client, accountId, "after")
  await fabric.waitForProject(created.id, (p) => p.phase === "Ready")
  const deleted = await deleteProject(fabric.client, ctx.projectIds[1]!)
  await fabric.waitForProject(deleted.id, (p) => p.phase === "Deleted")
  for (const state of fabric.states.values()) assert.not.ok(state.lookup(deleted.namespace), "the deleted project's namespace is gone")
})

retention("an expired Idempotency-Key is forgotten: the same key creates again", async ({ fabric, accountId }) => {
  const replay = await createWithKey(fabric, accountId, "three", "keep-three")
  assert.is(replay.status, 201)
  const first = (await expectOk(replay)).project.id
  const keysBefore = (await counts(fabric)).keys
  const pruned = await prune(fabric, { sentOutboxMs: 86_400_000, historyKeep: 100, idempotencyMs: 0 }, 1000)
  assert.is(pruned.idempotencyKeys, keysBefore)
  assert.is((await counts(fabric)).keys, 0)
  const again = await createWithKey(fabric, accountId, "three", "keep-three")
  assert.is(again.status, 201)
  assert.is.not((await expectOk(again)).project.id, first)
})

retention.run()
