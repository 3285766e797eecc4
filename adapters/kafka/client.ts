// One kafkajs client per layer, its log lines routed into Effect's logger (so they carry the
// process's log format and annotations) instead of kafkajs's own console output.
import { Effect, type Context, type LogLevel } from "effect"
import { Kafka, logLevel, Partitioners, type Admin, type KafkaConfig as KafkaJsConfig, type LogEntry, type logCreator, type Producer, type ProducerConfig, type SASLOptions } from "kafkajs"
import type { ConnectionOptions } from "node:tls"
import type { KafkaConfig, KafkaLogLevel, KafkaTls } from "./config.ts"
import { tryKafka } from "./errors.ts"

const kafkajsLevel: Record<KafkaLogLevel, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
}

const severityOf = (level: logLevel): LogLevel.Severity =>
  level === logLevel.ERROR ? "Error" : level === logLevel.WARN ? "Warn" : level === logLevel.INFO ? "Info" : "Debug"

// Lines kafkajs raises to warn or error for situations that are normal here.
const expected = [
  "Limiting retries for the idempotent producer", // finite retries: publish must fail so the caller (the outbox relay) retries
  "The group is rebalancing, re-joining", // every member join or leave
  // CONCURRENT_TRANSACTIONS: a fenced publisher's next transaction began while the coordinator
  // still wrote the last one's markers; kafkajs retries it (a failure that stays reaches the relay)
  "Failed to send messages: The producer attempted to update a transaction while another concurrent operation",
]
// kafkajs logs every error RESPONSE at error level (a heartbeat during a rebalance, "topic
// already exists" from an idempotent createTopics); it handles them itself, and the ones that
// matter reach the caller as a failed call or a consumer crash, which are logged there. Except a
// refusal by the broker's authorizer: a group's ("Group authorization failed") reaches the caller
// only as "Failed to find group coordinator", so its response line is what names the missing ACL.
const isHandledResponse = (namespace: string, message: string, error: unknown) =>
  namespace === "Connection" && message.startsWith("Response ") && !/authorization failed/i.test(String(error ?? ""))

const routeToEffect = (context: Context.Context<never>): logCreator => () => (entry: LogEntry) => {
  const { message, timestamp: _timestamp, logger: _logger, ...extra } = entry.log as unknown as Record<string, unknown> & { message: string }
  const annotations: Record<string, unknown> = { kafkajs: entry.namespace }
  for (const [key, value] of Object.entries(extra)) {
    // stacks and nested request payloads make unreadable lines; names and ids are enough
    if (key !== "stack" && (typeof value !== "object" || value === null)) annotations[key] = value
    else if (value instanceof Error) annotations[key] = `${value.name}: ${value.message}`
  }
  const routine = isHandledResponse(entry.namespace, message, extra.error) || expected.some((text) => message.startsWith(text))
  const severity = routine ? "Debug" : severityOf(entry.level)
  Effect.runForkWith(context)(Effect.logWithLevel(severity)(message).pipe(Effect.annotateLogs(annotations)))
}

/** kafkajs's `ssl` option: Node's TLS options (a CA replaces the system's list; a server name is also sent as SNI). */
const sslOptions = (tls: KafkaTls): ConnectionOptions => ({
  ...(tls.ca === undefined ? {} : { ca: tls.ca }),
  ...(tls.cert === undefined ? {} : { cert: tls.cert, key: tls.key }),
  ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
})

/** kafkajs's `ssl` and `sasl` options for the settings (also for clients outside the EventBus: probes, tests). */
export const kafkajsSecurity = (config: Pick<KafkaConfig, "sasl" | "tls">): Pick<KafkaJsConfig, "ssl" | "sasl"> => ({
  ...(config.tls === undefined ? {} : { ssl: sslOptions(config.tls) }),
  // (a union of mechanisms is not one of kafkajs's per-mechanism option types, though each member is)
  ...(config.sasl === undefined ? {} : { sasl: { ...config.sasl } as SASLOptions }),
})

export const makeKafkaClient = (config: KafkaConfig, context: Context.Context<never>): Kafka =>
  new Kafka({
    clientId: config.clientId,
    brokers: [...config.brokers],
    ...kafkajsSecurity(config),
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    retry: {
      retries: config.retries,
      initialRetryTime: config.initialRetryTimeMs,
      maxRetryTime: config.maxRetryTimeMs,
    },
    logLevel: kafkajsLevel[config.logLevel],
    logCreator: routeToEffect(context),
  })

/** Every producer of the bus, plain or transactional. */
export const producerOptions = (config: KafkaConfig): ProducerConfig => ({
  // idempotent: a retried send is written once; with one request in flight per broker,
  // messages of one key stay in order even across retries
  idempotent: true,
  maxInFlightRequests: 1,
  // murmur2 like the Java client: one key, one partition, whoever publishes
  createPartitioner: Partitioners.DefaultPartitioner,
  allowAutoTopicCreation: false,
  retry: { retries: config.retries, initialRetryTime: config.initialRetryTimeMs, maxRetryTime: config.maxRetryTimeMs },
})

/** A connected admin client or producer, disconnected when the scope closes. */
export const connected = <A extends Admin | Producer>(what: string, client: A) =>
  Effect.acquireRelease(
    tryKafka(`connect ${what}`, () => client.connect().catch(async (error: unknown) => {
      await client.disconnect().catch(() => {})
      throw error
    })).pipe(Effect.as(client)),
    () => Effect.promise(() => client.disconnect().catch(() => {})),
  )
