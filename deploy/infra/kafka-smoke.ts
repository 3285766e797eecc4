// Proof that kafkajs works against the local broker: creates a compacted topic, produces
// with an idempotent producer, consumes in a consumer group with manual commits, checks the
// committed offsets, and waits for the log cleaner to compact superseded keys.
// Usage: node deploy/infra/kafka-smoke.ts [brokers]   (exit 0 = all checks passed)
import { createRequire } from "node:module";
import path from "node:path";
import assert from "node:assert/strict";

const require = createRequire(path.join(process.env.FABRIC_NODE_MODULES ?? path.resolve(import.meta.dirname, "../../node_modules"), "noop.js"));
const { Kafka, logLevel } = require("kafkajs");

const brokers = (process.argv[2] ?? process.env.KAFKA_BROKERS ?? "127.0.0.1:19092").split(",");
const run = `${Date.now()}-${process.pid}`;
const topic = `smoke-compacted-${run}`;
const groupId = `smoke-group-${run}`;
const kafka = new Kafka({ clientId: "fabric-infra-smoke", brokers, logLevel: logLevel.ERROR });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const step = (msg: string) => console.log(`kafka-smoke: ${msg}`);
const KEYS = 10;

const admin = kafka.admin();
await admin.connect();
const cluster = await admin.describeCluster();
step(`cluster ${cluster.clusterId} with ${cluster.brokers.length} broker(s)`);

assert.equal(await admin.createTopics({
  waitForLeaders: true,
  topics: [{
    topic, numPartitions: 1, replicationFactor: 1,
    configEntries: [
      { name: "cleanup.policy", value: "compact" },
      { name: "segment.ms", value: "500" },
      { name: "min.cleanable.dirty.ratio", value: "0.01" },
      { name: "delete.retention.ms", value: "100" },
    ],
  }],
}), true);
const described = await admin.describeConfigs({ resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ["cleanup.policy"] }], includeSynonyms: false });
assert.equal(described.resources[0].configEntries[0].configValue, "compact");
step(`created compacted topic ${topic}`);

const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
const send = async (version: string) => {
  const res = await producer.send({
    topic, acks: -1,
    messages: Array.from({ length: KEYS }, (_, i) => ({ key: `k${i}`, value: `${version}-${i}` })),
  });
  assert.equal(res[0].errorCode, 0);
};
await send("v1");
await sleep(700); // > segment.ms, so the next append rolls a new segment
await send("v2");
step(`idempotent producer wrote ${2 * KEYS} records (2 versions of ${KEYS} keys)`);

// Consumer group with manual commits.
const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000 });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
const seen: string[] = [];
let lastOffset = "-1";
await new Promise<void>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("consumer did not receive all records in 60s")), 60000);
  consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic: t, partition, message }: any) => {
      seen.push(`${message.key}=${message.value}`);
      lastOffset = message.offset;
      await consumer.commitOffsets([{ topic: t, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      if (seen.length >= 2 * KEYS) { clearTimeout(timer); resolve(); }
    },
  }).catch(reject);
});
await consumer.disconnect();
assert.equal(seen.length, 2 * KEYS);
const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
assert.equal(committed[0].partitions[0].offset, (BigInt(lastOffset) + 1n).toString());
step(`consumer group ${groupId} read ${seen.length} records, committed offset ${committed[0].partitions[0].offset}`);

// Log compaction: roll the segment holding v2 with one more append, then wait for the
// cleaner to drop every superseded v1 record.
await sleep(700);
await producer.send({ topic, acks: -1, messages: [{ key: "roll", value: "roll" }] });
const deadline = Date.now() + 90000;
let compacted = false;
let values: string[] = [];
while (Date.now() < deadline && !compacted) {
  await sleep(2000);
  values = [];
  const reader = kafka.consumer({ groupId: `${groupId}-reader-${Date.now()}` });
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  const end = Number((await admin.fetchTopicOffsets(topic))[0].high);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 10000);
    reader.run({
      eachMessage: async ({ message }: any) => {
        values.push(String(message.value));
        if (Number(message.offset) + 1 >= end) { clearTimeout(timer); resolve(); }
      },
    });
  });
  await reader.disconnect();
  compacted = !values.some((v) => v.startsWith("v1-")) && values.filter((v) => v.startsWith("v2-")).length === KEYS;
}
assert.ok(compacted, `log cleaner did not compact ${topic} in 90s; read: ${values.join(",")}`);
step(`log cleaner compacted the topic: ${values.length} records remain (${KEYS} latest keys + roll marker)`);

await producer.disconnect();
await admin.deleteTopics({ topics: [topic] });
await admin.deleteGroups([groupId]).catch(() => {});
await admin.disconnect();
step("all checks passed");
