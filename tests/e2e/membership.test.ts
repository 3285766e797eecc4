// Membership at scale: a change is told to every live project through a durable notice worked
// off in chunks (resumable from its cursor); a heartbeat of an Active cluster tells nobody.
import { test } from "uvu"
import * as assert from "uvu/assert"
import { expectOk } from "../../rpc/client.ts"
import { ClusterId } from "../../src/domain/cluster.ts"
import { ClusterRegistry, noticeChunk } from "../../src/management/cluster-registry.ts"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"
import { waitFor } from "../support/wait-for.ts"

let fabric: TestFabric
let projectIds: string[] = []
const projectCount = noticeChunk * 2 + 50

test.before(async () => {
  // sim-x is signalled by hand and never heartbeats: no cluster may turn Unreachable mid-suite,
  // however slow the machine (that would write a notice the assertions do not expect).
  fabric = await startFabric({ clusters: { "sim-a": {} }, unreachableAfterMs: 86_400_000, env: { FABRIC_PROJECT_QUOTA: "100000" } })
  const created = await expectOk(fabric.client.v1.accounts.$post({ json: { name: "Many", email: "many@example.test" } }))
  const param = { accountId: created.account.id }
  projectIds = [created.project.id]
  while (projectIds.length < projectCount) {
    const batch = await Promise.all(Array.from({ length: Math.min(25, projectCount - projectIds.length) }, () =>
      expectOk(fabric.client.v1.accounts[":accountId"].projects.$post({ param, json: { name: "p" } }))))
    projectIds.push(...batch.map((r) => r.project.id))
  }
  projectIds.sort()
})
test.after(() => fabric.stop())

const signal = (clusterId: string, kind: "joined" | "heartbeat" | "left", since?: Date) =>
  fabric.runtime.runPromise(ClusterRegistry.use((r) => r.signal({
    clusterId: ClusterId.make(clusterId), kind, at: new Date().toISOString(), ...(since === undefined ? {} : { since: since.toISOString() }),
  })))

/** Projects whose per-cluster rows include `clusterId`, from the read model. */
const projectsWith = async (clusterId: string) =>
  (await fabric.sql<{ id: string }>("select project_id as id from fabric.project_clusters where cluster_id = $1 order by project_id", clusterId)).map((r) => r.id)

test(`a cluster joining with ${projectCount} live projects is told to every one of them by one notice, worked off to its end`, async () => {
  await signal("sim-x", "joined")
  await waitFor("every project to gain sim-x", async () => ((await projectsWith("sim-x")).length === projectCount ? true : undefined), 60_000)
  assert.equal(await projectsWith("sim-x"), projectIds)
  const notices = await fabric.sql<{ cursor: string; done: boolean }>("select cursor, done_at is not null as done from fabric.membership_notices where cluster_id = 'sim-x'")
  assert.equal(notices.map((n) => ({ ...n })), [{ cursor: projectIds.at(-1)!, done: true }])
  const sample = await expectOk(fabric.client.v1.projects[":projectId"].$get({ param: { projectId: projectIds[123]! } }))
  assert.is(sample.project.clusters["sim-x"]?.phase, "Pending")
})

test("an Active cluster's heartbeats and a restart's join write no notice and tell no project", async () => {
  const before = await fabric.sql<{ n: number; events: number }>("select (select count(*)::int from fabric.membership_notices) as n, (select count(*)::int from fabric.actor_events where event->>'type' like 'cluster.%') as events")
  const seenBefore = (await fabric.sql<{ seen: Date }>("select last_seen_at as seen from fabric.clusters where id = 'sim-x'"))[0]!.seen
  await new Promise((r) => setTimeout(r, 5))
  for (let i = 0; i < 20; i++) await signal("sim-x", i === 10 ? "joined" : "heartbeat")
  const after = await fabric.sql<{ n: number; events: number }>("select (select count(*)::int from fabric.membership_notices) as n, (select count(*)::int from fabric.actor_events where event->>'type' like 'cluster.%') as events")
  assert.equal({ ...after[0] }, { ...before[0] })
  const seenAfter = (await fabric.sql<{ seen: Date }>("select last_seen_at as seen from fabric.clusters where id = 'sim-x'"))[0]!.seen
  assert.ok(seenAfter.getTime() > seenBefore.getTime(), "the heartbeat was recorded")
})

test("a notice cut short (a crash after some chunks) resumes from its cursor: projects before it are not told again", async () => {
  // As a crashed worker would leave it: the first chunk told, the cursor on its last project.
  const cursor = projectIds[noticeChunk - 1]!
  const at = new Date().toISOString()
  const told = await fabric.sql<{ n: number }>("select count(*)::int as n from fabric.actor_events where event->>'type' = 'cluster.reachability'")
  await fabric.sql(
    "insert into fabric.membership_notices (cluster_id, events, audience, cursor) values ('sim-x', $1::text::jsonb, 'live', $2)",
    JSON.stringify([{ type: "cluster.reachability", clusterId: "sim-x", reachable: false, at }]), cursor,
  )
  await waitFor("the notice to be worked off", async () =>
    (await fabric.sql<{ n: number }>("select count(*)::int as n from fabric.membership_notices where done_at is null"))[0]!.n === 0 ? true : undefined, 60_000)
  const rows = await fabric.sql<{ id: string }>(
    "select actor_id as id from fabric.actor_events where event->>'type' = 'cluster.reachability' order by actor_id")
  const newlyTold = rows.map((r) => r.id)
  assert.is(newlyTold.length - told[0]!.n, projectCount - noticeChunk)
  assert.ok(newlyTold.every((id) => id > cursor), "no project at or before the cursor was told again")
})

test("a removed cluster stays removed when a daemon that was running before the removal joins late; a daemon started since joins again", async () => {
  const runningSince = new Date()
  await new Promise((r) => setTimeout(r, 5))
  const removed = await fabric.client.v1.clusters[":clusterId"].$delete({ param: { clusterId: "sim-x" }, query: {} })
  assert.is(removed.status, 202)
  const phase = async () => (await fabric.sql<{ phase: string }>("select phase from fabric.clusters where id = 'sim-x'"))[0]!.phase
  const notices = async () => (await fabric.sql<{ n: number }>("select count(*)::int as n from fabric.membership_notices where cluster_id = 'sim-x'"))[0]!.n
  const before = await notices()
  // Its join was under way when the operator removed it (published late, or consumed late).
  await signal("sim-x", "joined", runningSince)
  assert.is(await phase(), "Removed")
  assert.is(await notices(), before, "nobody is told of a join that did not happen")
  await signal("sim-x", "heartbeat")
  assert.is(await phase(), "Removed")
  // Restarted after the removal: it joins again.
  await signal("sim-x", "joined", new Date())
  assert.is(await phase(), "Active")
  assert.is(await notices(), before + 1)
})

test.run()
