// One subscription = one kafkajs consumer in the subscription's group, running in the background
// until the caller's scope closes.
//
// Delivery rules (EventBus.subscribe):
// - a partition's messages are handled one at a time, in offset order;
// - a message's offset (offset + 1) is committed only after its handler succeeded, and before the
//   next message of that partition is handed out;
// - a failed handler pauses only its partition; after a backoff the SAME message comes again (the
//   partition's position was never advanced), while other partitions keep flowing;
// - closing the scope interrupts a handler in flight and leaves its message uncommitted, so the
//   group gets it again (at-least-once), as it does after a crash or a rebalance.
import { Cause, Effect, Exit, type Context, type Scope } from "effect"
import type { Admin, Consumer, ConsumerCrashEvent, ConsumerGroupJoinEvent, EachBatchPayload, Kafka } from "kafkajs"
import { EventBusUnavailable, type BusMessage, type Subscription } from "../../src/services/event-bus.ts"
import type { KafkaConfig } from "./config.ts"
import { describeKafkaError, tryKafka } from "./errors.ts"
import { offsetAfter, toBusMessage } from "./records.ts"

type Assignment = ConsumerGroupJoinEvent["payload"]["memberAssignment"]

export const runSubscription = <E>(
  kafka: Kafka,
  admin: Admin,
  config: KafkaConfig,
  context: Context.Context<never>,
  subscription: Subscription<E>,
): Effect.Effect<void, EventBusUnavailable, Scope.Scope> => {
  const { group, topics, fromBeginning } = subscription
  const log = (effect: Effect.Effect<void>) =>
    Effect.runForkWith(context)(effect.pipe(Effect.annotateLogs({ group, topics: topics.join(",") })))

  let stopping = false
  const stopHandlers = new AbortController() // interrupts a handler in flight when the scope closes
  const resumeTimers = new Set<ReturnType<typeof setTimeout>>()
  const failures = new Map<string, number>() // consecutive failures per "topic/partition"
  const firstJoin = Promise.withResolvers<Assignment>()
  firstJoin.promise.catch(() => {}) // observed later; do not let an early crash count as unhandled

  const consumer: Consumer = kafka.consumer({
    groupId: group,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: config.heartbeatIntervalMs,
    maxWaitTimeInMs: config.maxWaitTimeMs,
    allowAutoTopicCreation: false, // topics come from ensureTopics, with their partitions and policy
    retry: {
      retries: config.retries,
      initialRetryTime: config.initialRetryTimeMs,
      maxRetryTime: config.maxRetryTimeMs,
      // after a crash kafkajs restarts the consumer (retriable errors only) unless we are closing
      restartOnFailure: async () => !stopping,
    },
  })

  consumer.on(consumer.events.GROUP_JOIN, (event) => firstJoin.resolve(event.payload.memberAssignment))
  consumer.on(consumer.events.CRASH, (event: ConsumerCrashEvent) => {
    if (stopping) return
    const reason = describeKafkaError(event.payload.error)
    firstJoin.reject(event.payload.error)
    log(
      event.payload.restart
        ? Effect.logWarning(`Kafka consumer crashed, restarting: ${reason}`)
        : Effect.logError(`Kafka consumer crashed and stopped; this subscription delivers nothing more: ${reason}`),
    )
  })

  // Runs the handler as an Effect, heartbeating meanwhile so a slow handler keeps its partitions.
  const handleOne = async (message: BusMessage, heartbeat: () => Promise<void>) => {
    const beat = setInterval(() => heartbeat().catch(() => {}), config.heartbeatIntervalMs)
    try {
      return await Effect.runPromiseExitWith(context)(Effect.suspend(() => subscription.handle([message])), {
        signal: stopHandlers.signal,
      })
    } finally {
      clearInterval(beat)
    }
  }

  const retryLater = (message: BusMessage, cause: Cause.Cause<E>, pause: () => () => void) => {
    const where = `${message.topic}/${message.partition}`
    const attempt = (failures.get(where) ?? 0) + 1
    failures.set(where, attempt)
    const delay = Math.min(config.handlerRetryMaxMs, config.handlerRetryInitialMs * 2 ** (attempt - 1))
    log(
      Effect.logWarning(`handler failed on ${where}@${message.offset} (attempt ${attempt}); same message again in ${delay}ms`).pipe(
        Effect.annotateLogs({ cause: Cause.pretty(cause) }),
      ),
    )
    const resume = pause()
    const timer = setTimeout(() => {
      resumeTimers.delete(timer)
      if (!stopping) resume()
    }, delay)
    resumeTimers.add(timer)
  }

  const eachBatch = async ({ batch, commitOffsetsIfNecessary, heartbeat, isRunning, isStale, pause, resolveOffset }: EachBatchPayload) => {
    const { topic, partition } = batch
    for (const record of batch.messages) {
      if (stopping || !isRunning() || isStale()) return
      const message = toBusMessage(topic, partition, record)
      const exit = await handleOne(message, heartbeat)
      if (stopping) return // interrupted by close: left uncommitted, delivered again later
      if (Exit.isFailure(exit)) return retryLater(message, exit.cause, pause)
      failures.delete(`${topic}/${partition}`)
      // Commit before moving the local position: if the commit fails (a rebalance, a broker
      // away) kafkajs fetches from this message again, so it is redelivered, never skipped.
      await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: offsetAfter(record.offset) }] }] })
      resolveOffset(record.offset)
      await heartbeat()
    }
  }

  // With fromBeginning false, kafkajs decides "the end" lazily at its first fetch, which may come
  // after the caller's next publish. Committing the end now fixes the start point before
  // subscribe returns. Only partitions this group has never committed are touched.
  const startNewPartitionsAtEnd = (assignment: Assignment) =>
    tryKafka(`start group ${group} at the end of ${topics.join(",")}`, async () => {
      const assigned = Object.entries(assignment).filter(([, partitions]) => partitions.length > 0)
      if (assigned.length === 0) return
      const committed = await admin.fetchOffsets({ groupId: group, topics: assigned.map(([topic]) => topic) })
      const commits: Array<{ topic: string; partition: number; offset: string }> = []
      for (const { topic, partitions } of committed) {
        const never = partitions.filter((p) => BigInt(p.offset) < 0n && (assignment[topic] ?? []).includes(p.partition))
        if (never.length === 0) continue
        const ends = await admin.fetchTopicOffsets(topic)
        for (const { partition } of never) {
          const end = ends.find((e) => e.partition === partition)
          if (end !== undefined) commits.push({ topic, partition, offset: end.high })
        }
      }
      if (commits.length > 0) await consumer.commitOffsets(commits)
    })

  let stopped: Promise<void> | undefined
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true
      stopHandlers.abort()
      for (const timer of resumeTimers) clearTimeout(timer)
      // leaves the group, so the remaining members take over its partitions at once
      await consumer.disconnect().catch(() => {})
    })())

  const start = Effect.gen(function* () {
    yield* tryKafka(`connect consumer of group ${group}`, () => consumer.connect())
    yield* tryKafka(`subscribe group ${group} to ${topics.join(",")}`, () => consumer.subscribe({ topics: [...topics], fromBeginning }))
    const assignment = yield* tryKafka(`join group ${group}`, async () => {
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
        eachBatch,
      })
      return firstJoin.promise
    }).pipe(
      Effect.timeoutOrElse({
        duration: config.joinTimeoutMs,
        orElse: () => Effect.fail(new EventBusUnavailable({ reason: `group ${group} assigned no partitions within ${config.joinTimeoutMs}ms` })),
      }),
    )
    if (!fromBeginning) yield* startNewPartitionsAtEnd(assignment)
  })

  const stopWithinSessionTimeout = Effect.promise(stop).pipe(
    Effect.timeoutOrElse({
      duration: config.sessionTimeoutMs,
      orElse: () => Effect.logWarning(`consumer of group ${group} did not stop within ${config.sessionTimeoutMs}ms`),
    }),
  )

  return Effect.gen(function* () {
    yield* Effect.addFinalizer(() => stopWithinSessionTimeout)
    // a failed or interrupted start stops the consumer at once (not when the caller's scope
    // closes), so a retried subscribe leaves no half-joined member behind
    yield* start.pipe(Effect.onError(() => Effect.promise(stop)))
  })
}
