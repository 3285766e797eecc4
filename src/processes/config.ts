// Configuration, parsed ONCE at the edge from the environment (and flags) into a typed object.
// A bad setting stops the process with a message naming it.
import { existsSync } from "node:fs"
import { ConfigError } from "./config-error.ts"
import { databaseTls, type DatabaseTls } from "../../adapters/postgres/connection.ts"
import { defaultDaemonConcurrency } from "../daemon/concurrency.ts"
import { parseTracingConfig, type TracingConfig } from "./tracing-config.ts"
import { flag, type Env } from "./env-settings.ts"
import { parseKafkaSecurity } from "./kafka-security-config.ts"
import type { KafkaSasl, KafkaTls } from "../../adapters/kafka/config.ts"
import { dns1123Rule, isDns1123Label } from "../domain/names.ts"

export { ConfigError }

export interface FabricConfig {
  readonly port: number
  readonly host: string
  /** Undefined in embedded mode: one is generated and printed at start. */
  readonly operatorToken: string | undefined
  readonly dataDir: string
  /** Simulated clusters of the embedded default. */
  readonly simulatedClusters: ReadonlyArray<string>
  readonly databaseUrl: string | undefined
  readonly kafkaBrokers: ReadonlyArray<string> | undefined
  /** Prefix of every Kafka topic and group, for installations sharing one Kafka cluster. */
  readonly kafkaPrefix: string
  /** SASL/SCRAM credentials for Kafka (FABRIC_KAFKA_SASL_*); undefined: none. */
  readonly kafkaSasl: KafkaSasl | undefined
  /** TLS to Kafka (FABRIC_KAFKA_TLS*); undefined: plaintext. */
  readonly kafkaTls: KafkaTls | undefined
  readonly kubeconfigs: ReadonlyArray<string> | undefined
  readonly partitions: number
  readonly simulatedLatencyMs: number
  /** FABRIC_SIMULATED_UNSERVED_KINDS (`sim-c=KupoPort,…`): kinds a simulated cluster does not serve (their CRD is not installed there). */
  readonly simulatedUnservedKinds: Readonly<Record<string, ReadonlyArray<string>>>
  readonly heartbeatMs: number
  readonly driftIntervalMs: number
  /** Projects a daemon works on at once, and its bound on apiserver calls in flight. */
  readonly daemonConcurrency: number
  /** Active projects an account may have (the legacy quota, set on each new account). */
  readonly projectQuota: number
  /** Active resources an account may have, over all its projects (the legacy quota, set on each new account). */
  readonly resourceQuota: number
  readonly unreachableAfterMs: number
  readonly deletionDeadlineMs: number
  /** `fabric daemon` only: serve GET /metrics on this port (the other processes serve it on PORT). */
  readonly metricsPort: number | undefined
  /** FABRIC_STATELY_INSPECT=1: actors report to Stately's inspector (src/processes/stately-inspect.ts). */
  readonly statelyInspect: boolean
  /** Fallback re-reads when no notification came: the outbox relay's and each SSE watch's. */
  readonly outboxPollMs: number
  readonly watchPollMs: number
  /** Retention: sent outbox rows and idempotency keys by age, actor history by count per actor. */
  readonly outboxRetentionMs: number
  readonly historyKeep: number
  readonly idempotencyRetentionMs: number
  /** OTEL_EXPORTER_OTLP_ENDPOINT and friends: where spans go; undefined exports none. */
  readonly tracing: TracingConfig | undefined
  /**
   * On SIGTERM, how long requests in flight (and consumers' messages in flight) may take to
   * finish before they are cut; sized so the whole stop fits Kubernetes' default grace of 30 s.
   */
  readonly shutdownDrainMs: number
  /** FABRIC_CRDS_DIR: the CustomResourceDefinitions of the kind catalogue; undefined is deploy/crds/. */
  readonly crdsDirectory: string | undefined
}

const list = (value: string | undefined) => (value ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0)

const integer = (env: Env, name: string, fallback: number, min: number, max: number): number => {
  const raw = env[name]
  if (raw === undefined || raw === "") return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name}=${raw} is not a whole number from ${min} to ${max}`)
  return n
}

const kafkaPrefix = (value: string | undefined): string => {
  if (value === undefined || value === "") return ""
  if (!/^[a-zA-Z0-9._-]{1,100}$/.test(value)) throw new ConfigError(`FABRIC_KAFKA_PREFIX=${value} may hold only letters, digits, '.', '_' and '-'`)
  return value
}

/** `cluster=Kind` pairs; the cluster must be one of the simulated ones (whether the kind is catalogued is the catalogue's to say). */
const unservedKinds = (value: string | undefined, clusters: ReadonlyArray<string>): Record<string, string[]> => {
  const byCluster: Record<string, string[]> = {}
  for (const entry of list(value)) {
    const [cluster, kind, ...rest] = entry.split("=").map((s) => s.trim())
    if (cluster === undefined || kind === undefined || kind === "" || rest.length > 0) throw new ConfigError(`FABRIC_SIMULATED_UNSERVED_KINDS: "${entry}" is not cluster=Kind`)
    if (!clusters.includes(cluster)) throw new ConfigError(`FABRIC_SIMULATED_UNSERVED_KINDS: "${cluster}" is not one of FABRIC_CLUSTERS (${clusters.join(",")})`)
    ;(byCluster[cluster] ??= []).push(kind)
  }
  return byCluster
}

const checkDatabaseUrl = (databaseUrl: string) => {
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new ConfigError("DATABASE_URL must start with postgres://")
  let tls: DatabaseTls
  try {
    tls = databaseTls(databaseUrl)
  } catch (e) {
    throw new ConfigError(`DATABASE_URL: ${(e as Error).message}`)
  }
  // The driver reads the CA when it connects; a missing file is a setting to fix, said now.
  if (tls.rootCertFile !== undefined && !existsSync(tls.rootCertFile)) throw new ConfigError(`DATABASE_URL: sslrootcert=${tls.rootCertFile}: no such file`)
}

export const parseConfig = (env: Env): FabricConfig => {
  const simulatedClusters = env.FABRIC_CLUSTERS === undefined ? ["sim-a", "sim-b", "sim-c"] : list(env.FABRIC_CLUSTERS)
  for (const id of simulatedClusters) {
    if (!isDns1123Label(id)) throw new ConfigError(`FABRIC_CLUSTERS: "${id}" is not a valid cluster id (${dns1123Rule})`)
  }
  if (new Set(simulatedClusters).size !== simulatedClusters.length) throw new ConfigError("FABRIC_CLUSTERS lists a cluster twice")
  const token = env.FABRIC_ADMIN_TOKEN
  if (token !== undefined && token.length < 16) throw new ConfigError("FABRIC_ADMIN_TOKEN must be at least 16 characters")
  const databaseUrl = env.DATABASE_URL || undefined
  if (databaseUrl !== undefined) checkDatabaseUrl(databaseUrl)
  const kafkaBrokers = env.KAFKA_BROKERS ? list(env.KAFKA_BROKERS) : undefined
  for (const b of kafkaBrokers ?? []) if (!/^[^:\s]+:\d+$/.test(b)) throw new ConfigError(`KAFKA_BROKERS: "${b}" is not host:port`)
  const kafkaSecurity = parseKafkaSecurity(env, kafkaBrokers !== undefined)
  return {
    port: integer(env, "PORT", 8080, 0, 65535),
    host: env.HOST || "127.0.0.1",
    operatorToken: token || undefined,
    dataDir: env.FABRIC_DATA_DIR || ".fabric",
    simulatedClusters,
    databaseUrl,
    kafkaBrokers,
    kafkaPrefix: kafkaPrefix(env.FABRIC_KAFKA_PREFIX),
    kafkaSasl: kafkaSecurity.sasl,
    kafkaTls: kafkaSecurity.tls,
    kubeconfigs: env.FABRIC_KUBECONFIGS ? list(env.FABRIC_KUBECONFIGS) : undefined,
    partitions: integer(env, "FABRIC_PARTITIONS", 6, 1, 1000),
    simulatedLatencyMs: integer(env, "FABRIC_SIMULATED_LATENCY_MS", 0, 0, 600_000),
    simulatedUnservedKinds: unservedKinds(env.FABRIC_SIMULATED_UNSERVED_KINDS, simulatedClusters),
    heartbeatMs: integer(env, "FABRIC_HEARTBEAT_SECONDS", 10, 1, 3600) * 1000,
    driftIntervalMs: integer(env, "FABRIC_DRIFT_SECONDS", 60, 1, 86_400) * 1000,
    daemonConcurrency: integer(env, "FABRIC_DAEMON_CONCURRENCY", defaultDaemonConcurrency, 1, 1000),
    projectQuota: integer(env, "FABRIC_PROJECT_QUOTA", 10, 1, 100_000),
    resourceQuota: integer(env, "FABRIC_RESOURCE_QUOTA", 50, 1, 100_000),
    unreachableAfterMs: integer(env, "FABRIC_UNREACHABLE_AFTER_SECONDS", 30, 1, 86_400) * 1000,
    deletionDeadlineMs: integer(env, "FABRIC_DELETION_DEADLINE_SECONDS", 600, 0, 30 * 86_400) * 1000,
    metricsPort: env.FABRIC_METRICS_PORT ? integer(env, "FABRIC_METRICS_PORT", 0, 0, 65535) : undefined,
    statelyInspect: flag(env, "FABRIC_STATELY_INSPECT"),
    outboxPollMs: integer(env, "FABRIC_OUTBOX_POLL_SECONDS", 5, 1, 86_400) * 1000,
    watchPollMs: integer(env, "FABRIC_WATCH_POLL_SECONDS", 30, 1, 86_400) * 1000,
    outboxRetentionMs: integer(env, "FABRIC_OUTBOX_RETENTION_SECONDS", 86_400, 0, 3650 * 86_400) * 1000,
    historyKeep: integer(env, "FABRIC_HISTORY_KEEP", 100, 1, 1_000_000),
    idempotencyRetentionMs: integer(env, "FABRIC_IDEMPOTENCY_RETENTION_SECONDS", 86_400, 1, 3650 * 86_400) * 1000,
    tracing: parseTracingConfig(env),
    shutdownDrainMs: integer(env, "FABRIC_SHUTDOWN_DRAIN_SECONDS", 20, 0, 3600) * 1000,
    crdsDirectory: env.FABRIC_CRDS_DIR || undefined,
  }
}
