// Retention (FABRIC_OUTBOX_RETENTION_SECONDS, FABRIC_HISTORY_KEEP, FABRIC_IDEMPOTENCY_RETENTION_SECONDS):
// a pass deletes exactly what the policy no longer keeps, in batches, and the actors, the relay
// and the debug history go on working on what is left.
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { pruneAll } from "../../src/management/retention-job.ts"
import type { RetentionPolicy } from "../../src/services/retention.ts"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"
import { waitFor } from "../support/wait-for.ts"

const retention = suite<{ fabric: TestFabric; accountId: string; projectIds: string[] }>("retention")

retention.before(async (ctx) => {
  ctx.fabric = await startFabric()
  const account = await ctx.fabric.request("POST", "/v1/accounts", { body: { name: "Keep", email: "keep@example.test" }, headers: { "idempotency-key": "keep-account" } })
  assert.is(account.status, 201)
  ctx.accountId = account.json.account.id
  ctx.projectIds = [account.json.project.id]
  for (const name of ["one", "two", "three"]) {
    const created = await ctx.fabric.request("POST", `/v1/accounts/${ctx.accountId}/projects`, { body: { name }, headers: { "idempotency-key": `keep-${name}` } })
    assert.is(created.status, 201)
    ctx.projectIds.push(created.json.project.id)
  }
  for (const id of ctx.projectIds) await ctx.fabric.waitForProject(id, (p) => p.phase === "Ready")
})
retention.after(async (ctx) => ctx.fabric.stop())

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
  const detail = await fabric.request("GET", `/debug/api/actors/${projectIds[0]}`)
  assert.is(detail.status, 200)
  assert.equal(detail.json.actor.history.map((h: { version: number }) => h.version).sort((a: number, b: number) => a - b), after.get(projectIds[0]!))
})

retention("sent outbox rows go and unsent ones stay; the relay goes on from there", async (ctx) => {
  const { fabric, accountId } = ctx
  await waitUntilSent(fabric)
  const sentBefore = (await counts(fabric)).sent
  const pruned = await prune(fabric, { sentOutboxMs: 0, historyKeep: 100, idempotencyMs: 86_400_000 }, 2)
  assert.is(pruned.outbox, sentBefore)
  assert.is((await counts(fabric)).sent, 0)
  // A project created and deleted after the pass goes through the relay and the daemons as usual.
  const created = await fabric.request("POST", `/v1/accounts/${accountId}/projects`, { body: { name: "after" } })
  assert.is(created.status, 201)
  await fabric.waitForProject(created.json.project.id, (p) => p.phase === "Ready")
  const deleted = await fabric.request("DELETE", `/v1/projects/${ctx.projectIds[1]}`)
  assert.is(deleted.status, 202)
  await fabric.waitForProject(ctx.projectIds[1]!, (p) => p.phase === "Deleted")
  for (const state of fabric.states.values()) assert.not.ok(state.lookup(deleted.json.project.namespace), "the deleted project's namespace is gone")
})

retention("an expired Idempotency-Key is forgotten: the same key creates again", async ({ fabric, accountId }) => {
  const replay = await fabric.request("POST", `/v1/accounts/${accountId}/projects`, { body: { name: "three" }, headers: { "idempotency-key": "keep-three" } })
  assert.is(replay.status, 201)
  const first = replay.json.project.id
  const keysBefore = (await counts(fabric)).keys
  const pruned = await prune(fabric, { sentOutboxMs: 86_400_000, historyKeep: 100, idempotencyMs: 0 }, 1000)
  assert.is(pruned.idempotencyKeys, keysBefore)
  assert.is((await counts(fabric)).keys, 0)
  const again = await fabric.request("POST", `/v1/accounts/${accountId}/projects`, { body: { name: "three" }, headers: { "idempotency-key": "keep-three" } })
  assert.is(again.status, 201)
  assert.is.not(again.json.project.id, first)
})

retention.run()
