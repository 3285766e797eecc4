// A message nobody can process is parked on fabric.dlq with the reason, and never blocks its
// partition: the projects after it still become Ready. Undecodable desired state (reaching the
// daemons) and an undecodable observation (reaching management) both go there.
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk } from "../../rpc/client.ts"
import { topics, type DeadLetter } from "../../src/domain/messages.ts"
import { EventBus } from "../../src/services/event-bus.ts"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"

const dlq = suite<{ fabric: TestFabric }>("dead letters")
dlq.before(async (ctx) => { ctx.fabric = await startFabric() })
dlq.after(async (ctx) => ctx.fabric.stop())

const publish = (fabric: TestFabric, topic: string, key: string, value: string) =>
  fabric.runtime.runPromise(EventBus.use((bus) => bus.publish(topic, [{ key, value }])))

const deadLetters = async (fabric: TestFabric, key: string, count: number): Promise<DeadLetter[]> => {
  const deadline = Date.now() + 20_000
  let found: DeadLetter[] = []
  while (Date.now() < deadline) {
    const all = await fabric.runtime.runPromise(EventBus.use((bus) => bus.readAll(topics.dlq, "dead-letters-test")))
    found = all.filter((m) => m.key === key).map((m) => JSON.parse(m.value!) as DeadLetter)
    if (found.length >= count) return found
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`expected ${count} dead letters for ${key}, found ${found.length}`)
}

dlq("undecodable desired state: every cluster's daemon parks it with the reason and moves on", async ({ fabric }) => {
  await publish(fabric, topics.projects, "prj_broken", "{not json")
  // Valid ids: what is refused is the namespace name alone.
  const badName = { projectId: `prj_badname${"a".repeat(13)}`, accountId: `acc_${"a".repeat(20)}`, namespace: "Not_A_Label", generation: 1, deleted: false }
  await publish(fabric, topics.projects, "prj_badname", JSON.stringify(badName))
  const broken = await deadLetters(fabric, "prj_broken", 3)
  assert.ok(broken.every((l) => l.topic.endsWith(topics.projects) && l.value === "{not json" && /undecodable/.test(l.reason)), JSON.stringify(broken))
  const refused = await deadLetters(fabric, "prj_badname", 3)
  assert.ok(refused.every((l) => /DNS-1123/.test(l.reason)), JSON.stringify(refused))
  for (const state of fabric.states.values()) assert.is(state.lookup("Not_A_Label"), undefined)

  // The partitions moved on: a project created afterwards is Ready everywhere.
  const acc = await expectOk(fabric.client.v1.accounts.$post({ json: { name: "After DLQ", email: "after@dlq.test" } }))
  const ready = await fabric.waitForProject(acc.project.id, (p) => p.phase === "Ready")
  assert.equal(Object.values(ready.clusters).map((c) => c.phase), ["Ready", "Ready", "Ready"])
})

dlq("an undecodable observation is parked by management; later observations still apply", async ({ fabric }) => {
  await publish(fabric, topics.status, "prj_garbled", "[1,2,3]")
  const [letter] = await deadLetters(fabric, "prj_garbled", 1)
  assert.is(letter!.value, "[1,2,3]")
  assert.ok(letter!.reason.length > 0)
  const acc = await expectOk(fabric.client.v1.accounts.$post({ json: { name: "After Garble", email: "garble@dlq.test" } }))
  await fabric.waitForProject(acc.project.id, (p) => p.phase === "Ready")
})

dlq.run()
