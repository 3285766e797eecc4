// Proof that kafkajs works with the broker `infra:up` runs: Fabric's own topics are created with
// the configured partitions and fabric.projects is compacted; and deploy/infra/kafka-smoke.ts
// (idempotent producer, a consumer group with manual commits and its committed offset read
// back, the log cleaner really compacting superseded keys) passes against it.
import { spawn } from "node:child_process"
import { Effect, Layer } from "effect"
import { Kafka, logLevel } from "kafkajs"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { layer, makeKafkaConfig, parseBrokers } from "../../adapters/kafka/event-bus.ts"
import { namespaced } from "../../adapters/kafka/namespaced.ts"
import { topicSpecs } from "../../src/domain/topics.ts"
import { EventBus } from "../../src/services/event-bus.ts"
import { deleteKafkaRun } from "../support/kafka-cleanup.ts"
import { requireRealEngines } from "../support/real-engines.ts"

const { kafkaBrokers } = requireRealEngines()
const brokers = parseBrokers(kafkaBrokers)
const prefix = `proof-${Date.now().toString(36)}-${process.pid}.`
const admin = new Kafka({ clientId: "fabric-broker-proof", brokers: [...brokers], logLevel: logLevel.NOTHING }).admin()

test.before(() => admin.connect())
test.after(async () => {
  await admin.disconnect()
  await deleteKafkaRun(brokers, prefix)
})

test("Fabric's topics: the configured partitions, fabric.projects compacted, the others not", async () => {
  const bus = Layer.provide(namespaced(prefix), layer(makeKafkaConfig({ brokers, clientId: "fabric-broker-proof" })))
  await Effect.runPromise(EventBus.use((b) => b.ensureTopics(topicSpecs(4))).pipe(Effect.provide(bus), Effect.scoped))
  const metadata = await admin.fetchTopicMetadata({ topics: ["projects", "status", "clusters", "dlq"].map((t) => `${prefix}fabric.${t}`) })
  for (const t of metadata.topics) assert.ok(t.partitions.length >= 1, t.name)
  assert.is(metadata.topics.find((t) => t.name === `${prefix}fabric.projects`)!.partitions.length, 4)
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: ["projects", "status"].map((t) => ({ type: 2 /* TOPIC */, name: `${prefix}fabric.${t}`, configNames: ["cleanup.policy"] })),
  })
  const policy = Object.fromEntries(configs.resources.map((r) => [r.resourceName.slice(prefix.length), r.configEntries[0]!.configValue]))
  assert.equal(policy, { "fabric.projects": "compact", "fabric.status": "delete" })
})

test("kafka-smoke: idempotent producer, consumer group with manual commits, log compaction", async () => {
  const child = spawn(process.execPath, ["deploy/infra/kafka-smoke.ts", kafkaBrokers], { cwd: new URL("../..", import.meta.url).pathname })
  let output = ""
  child.stdout.on("data", (d) => (output += d))
  child.stderr.on("data", (d) => (output += d))
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve))
  assert.is(code, 0, output)
  assert.match(output, /consumer group \S+ read 20 records, committed offset 20/)
  assert.match(output, /log cleaner compacted the topic/)
  assert.match(output, /all checks passed/)
})

test.run()
