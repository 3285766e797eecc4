// A member that was paused past its session (SIGSTOP: a frozen VM, a long GC) is expelled by the
// coordinator; when it runs again it must not act on what it held before: here the group's
// offsets were moved past a backlog while it was gone, and it resumes from there, never handling
// the skipped messages and never moving the group's commit back.
import { spawn, type ChildProcess } from "node:child_process"
import { Kafka, logLevel } from "kafkajs"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { parseBrokers } from "../../adapters/kafka/event-bus.ts"
import { deleteKafkaRun } from "../support/kafka-cleanup.ts"
import { waitFor } from "../support/wait-for.ts"

const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? "")
const prefix = `kafka-expelled-${Date.now().toString(36)}-${process.pid}`
const topic = `${prefix}-topic`
const group = `${prefix}-group`
const kafka = new Kafka({ clientId: "fabric-expelled-test", brokers: [...brokers], logLevel: logLevel.NOTHING })
const admin = kafka.admin()
const producer = kafka.producer()
let member: ChildProcess | undefined

const send = (values: string[]) => producer.send({ topic, messages: values.map((value) => ({ key: "k", value })) })
const committed = async () => Number((await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]!.partitions[0]!.offset)

test.before(async () => {
  if (brokers.length === 0) throw new Error("KAFKA_BROKERS is not set: start the engines with `npm run infra:up`")
  await admin.connect()
  await producer.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
})
test.after(async () => {
  member?.kill("SIGCONT")
  member?.kill("SIGKILL")
  await producer.disconnect()
  await admin.disconnect()
  await deleteKafkaRun(brokers, prefix)
})

test("an expelled member resumes from the group's offsets and never handles what was skipped while it was gone", async () => {
  const handled: string[] = []
  member = spawn(process.execPath, [new URL("./members/printing-member.ts", import.meta.url).pathname], {
    env: { ...process.env, TOPIC: topic, GROUP: group }, stdio: ["ignore", "pipe", "inherit"],
  })
  let out = ""
  member.stdout!.on("data", (d) => {
    out += d
    for (const [, value] of out.matchAll(/^handled (.*)$/gm)) handled.push(value!)
    out = out.slice(out.lastIndexOf("\n") + 1)
  })
  await send(["m0", "m1", "m2"])
  await waitFor("the member to handle and commit the first messages", async () => handled.length === 3 && (await committed()) === 3 ? true : undefined, 60_000, 100)

  member.kill("SIGSTOP")
  await waitFor("the coordinator to expel the paused member", async () => {
    const [described] = (await admin.describeGroups([group])).groups
    return described?.state === "Empty" ? true : undefined
  }, 60_000, 250)
  // While it is gone: a backlog arrives and an operator skips it (the group is empty, so Kafka allows it).
  await send(["skipped0", "skipped1", "skipped2"])
  await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: "6" }] })
  await send(["m6"])

  member.kill("SIGCONT")
  await waitFor("the member to handle the message after the skip", async () => handled.includes("m6") ? true : undefined, 60_000, 100)
  await waitFor("the group's commit to reach the end", async () => (await committed()) === 7 ? true : undefined, 30_000, 100)
  assert.equal(handled.filter((v) => v.startsWith("skipped")), [], "nothing skipped while the member was gone was handled by it")
  assert.equal(handled, ["m0", "m1", "m2", "m6"])
})

test.run()
