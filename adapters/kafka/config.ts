// Settings of the Kafka EventBus layer. Parsed once at the edge (entrypoint or test) into this
// object; nothing below reads process.env.

export type KafkaLogLevel = "nothing" | "error" | "warn" | "info" | "debug"

export type KafkaSaslMechanism = "scram-sha-256" | "scram-sha-512"

/** SASL/SCRAM credentials (the password itself, not a file: files are read at the edge). */
export interface KafkaSasl {
  readonly mechanism: KafkaSaslMechanism
  readonly username: string
  readonly password: string
}

/** TLS to the brokers; PEM contents. Without `ca`, the system's trusted CAs verify the brokers. */
export interface KafkaTls {
  readonly ca?: string | undefined
  /** A client certificate and its key, for brokers that ask for one (mutual TLS). */
  readonly cert?: string | undefined
  readonly key?: string | undefined
  /** The name the brokers' certificates must carry (and SNI), when it is not the host they are reached at. */
  readonly serverName?: string | undefined
}

export interface KafkaConfig {
  readonly brokers: ReadonlyArray<string>
  /** Undefined: no SASL. */
  readonly sasl: KafkaSasl | undefined
  /** Undefined: plaintext. */
  readonly tls: KafkaTls | undefined
  readonly clientId: string
  readonly connectionTimeoutMs: number
  readonly requestTimeoutMs: number
  /** kafkajs's own retries for one request (producer, admin, consumer); then the caller retries. */
  readonly retries: number
  readonly initialRetryTimeMs: number
  readonly maxRetryTimeMs: number
  /** kafkajs log lines at or above this level go to Effect's logger; the rest are dropped. */
  readonly logLevel: KafkaLogLevel
  /** Replicas per partition for topics created by ensureTopics; -1 is the broker's default. */
  readonly replicationFactor: number
  /** A member that sends no heartbeat for this long is removed from its group. */
  readonly sessionTimeoutMs: number
  readonly heartbeatIntervalMs: number
  /** How long an idle fetch waits on the broker; also bounds how long stopping a consumer takes. */
  readonly maxWaitTimeMs: number
  /** How long subscribe waits for the group to assign partitions before failing. */
  readonly joinTimeoutMs: number
  /**
   * kafkajs's eachBatch calls running at once. eachBatch only queues messages into the
   * subscription's dispatcher, which handles keys in parallel; it waits only while the buffer is
   * full, and then each partition's batch waits for room on its own instead of queueing behind
   * the first one. More than the partitions a member holds brings nothing.
   */
  readonly partitionsConsumedConcurrently: number
  /** Messages of one subscription taken from Kafka and not yet handled, at most (backpressure). */
  readonly bufferSize: number
  /** Backoff before a failed handler sees the same message again: doubles up to the maximum. */
  readonly handlerRetryInitialMs: number
  readonly handlerRetryMaxMs: number
  /** On shutdown, how long handler calls in flight may take to finish (and be committed) before they are cut. */
  readonly handlerDrainMs: number
}

const defaultKafkaConfig: Omit<KafkaConfig, "brokers"> = {
  sasl: undefined,
  tls: undefined,
  clientId: "fabric",
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 30_000,
  retries: 5,
  initialRetryTimeMs: 300,
  maxRetryTimeMs: 10_000,
  logLevel: "warn",
  replicationFactor: -1,
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  maxWaitTimeMs: 1_000,
  joinTimeoutMs: 60_000,
  partitionsConsumedConcurrently: 8,
  bufferSize: 256,
  handlerRetryInitialMs: 200,
  handlerRetryMaxMs: 30_000,
  handlerDrainMs: 5_000,
}

export const makeKafkaConfig = (settings: Pick<KafkaConfig, "brokers"> & Partial<KafkaConfig>): KafkaConfig => ({
  ...defaultKafkaConfig,
  ...settings,
})

/** `KAFKA_BROKERS=host:port,host:port` → broker list. */
export const parseBrokers = (value: string): ReadonlyArray<string> =>
  value.split(",").map((broker) => broker.trim()).filter((broker) => broker.length > 0)
