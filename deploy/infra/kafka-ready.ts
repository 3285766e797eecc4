// Readiness probe for the local Kafka broker: succeeds (exit 0) once a real client can
// describe the cluster. With --warm it then also makes the broker create its group
// coordinator (__consumer_offsets) and hand out a producer id, so the first test does not
// meet "coordinator is loading" retries.
// Usage: node kafka-ready.ts [brokers] [timeoutSeconds] [--warm]
// Credentials and TLS come from Fabric's own variables (FABRIC_KAFKA_SASL_*, FABRIC_KAFKA_TLS*),
// read by Fabric's own parser: the probe connects the way Fabric would.
import { createRequire } from "node:module";
import path from "node:path";
import { kafkajsSecurity } from "../../adapters/kafka/client.ts";
import { parseKafkaSecurity } from "../../src/processes/kafka-security-config.ts";

const require = createRequire(path.join(process.env.FABRIC_NODE_MODULES ?? path.resolve(import.meta.dirname, "../../node_modules"), "noop.js"));
const { Kafka, logLevel } = require("kafkajs");

const warm = process.argv.includes("--warm");
const args = process.argv.slice(2).filter((a) => a !== "--warm");
const brokers = (args[0] ?? process.env.KAFKA_BROKERS ?? "127.0.0.1:19092").split(",");
const timeoutMs = Number(args[1] ?? 120) * 1000;
const deadline = Date.now() + timeoutMs;

const kafka = new Kafka({
  clientId: "fabric-infra-ready",
  brokers,
  ...kafkajsSecurity(parseKafkaSecurity(process.env, true)),
  logLevel: logLevel.NOTHING,
  connectionTimeout: 2000,
  requestTimeout: 5000,
  retry: { retries: 0 },
});

let lastError: unknown;
while (Date.now() < deadline) {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (warm) {
      await admin.describeGroups(["fabric-infra-warmup"]);
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 20 } });
      await producer.connect();
      await producer.disconnect();
    }
    await admin.disconnect();
    console.log(`kafka ready: cluster ${cluster.clusterId}, controller ${cluster.controller}, brokers ${cluster.brokers.map((b: { host: string; port: number }) => `${b.host}:${b.port}`).join(",")}`);
    process.exit(0);
  } catch (err) {
    lastError = err;
    await admin.disconnect().catch(() => {});
    await new Promise((r) => setTimeout(r, 500));
  }
}
console.error(`kafka not ready after ${timeoutMs / 1000}s at ${brokers.join(",")}: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
process.exit(1);
