// One subscription = one kafkajs consumer in the subscription's group, running in the background
// until the caller's scope closes, feeding a keyed dispatcher (../keyed-dispatch.ts) that handles
// keys in parallel and says what to commit.
//
// How it sits on kafkajs 2.2.4 (read in node_modules/kafkajs/src/consumer):
// - eachBatch with eachBatchAutoResolve false and autoCommit false: kafkajs never commits, and
//   its fetch position moves only by resolveOffset. eachBatch queues the batch's messages into
//   the dispatcher and resolves each one as it is taken, so the next fetch starts after what was
//   taken, not after what was handled. It returns at once unless the buffer is full; then it
//   waits for room, heartbeating (a failed heartbeat, i.e. a rebalance, ends the wait so kafkajs
//   can rejoin). A fetcher fetches again only after every eachBatch of its last fetch returned.
// - Commits are ours: consumer.commitOffsets with the dispatcher's commit points (lowest
//   unfinished message per partition), only for partitions this member holds right now.
// - GROUP_JOIN carries the new assignment. Partitions lost are revoked in the dispatcher (queued
//   messages dropped, never committed again). Every join builds a new OffsetManager that starts
//   each assigned partition at the group's committed offset (resolveOffsets -> offsetFetch), so
//   a partition that comes back is read from its commit; for one kept across the join the
//   dispatcher skips what it already took, and commits its point again in the new generation.
// - A join under a new member id (the coordinator expelled this member after its session expired)
//   keeps nothing: the partitions are read again from the group's commit, which others may have
//   moved meanwhile. A batch that arrives long after the last heartbeat is checked with one first.
// - A crash makes kafkajs leave the group (disconnect) before it restarts: everything is revoked.
// - A fenced publisher's transaction markers are never handed over: the commit point passes them
//   once what came before is finished (dispatcher.passed), so a group at rest lags by 0.
// - Closing the scope stops taking messages, gives handlers in flight handlerDrainMs to finish,
//   interrupts the rest (their messages stay uncommitted, so the group gets them again), commits
//   what finished, then leaves the group.
import { Effect, Exit, type Context, type Scope } from "effect"
import type { Admin, Consumer, ConsumerCrashEvent, ConsumerGroupJoinEvent, EachBatchPayload, Kafka } from "kafkajs"
import { EventBusUnavailable, type Subscription } from "../../src/services/event-bus.ts"
import { makeKeyedDispatcher, type CommitOffset, type PartitionRef } from "../keyed-dispatch.ts"
import type { KafkaConfig } from "./config.ts"
import { describeKafkaError, tryKafka } from "./errors.ts"
import { toBusMessage } from "./records.ts"

type Assignment = ConsumerGroupJoinEvent["payload"]["memberAssignment"]

const idOf = ({ topic, partition }: PartitionRef) => `${topic}\u0000${partition}`
const refsOf = (assignment: Assignment): Array<PartitionRef> =>
  Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((partition) => ({ topic, partition })))

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
  const held = new Map<string, PartitionRef>() // the partitions of the current assignment
  let memberId: string | undefined // kafkajs's member id in the group, from the last join
  let lastContact = Date.now() // the last time the group coordinator knew this member (a heartbeat or a join)
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

  // Held partitions only: a commit for a partition another member owns now would move its
  // position back (read from the assignment right before the call, which takes the generation).
  // Bounded: kafkajs retries a commit for a while, and the dispatcher waits for it before closing.
  const commitHeld = (offsets: ReadonlyArray<CommitOffset>) =>
    tryKafka(`commit offsets of group ${group}`, async () => {
      const mine = offsets.filter((o) => held.has(idOf(o)))
      if (mine.length === 0) return
      let timer: ReturnType<typeof setTimeout> | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${config.requestTimeoutMs}ms`)), config.requestTimeoutMs)
      })
      try {
        await Promise.race([consumer.commitOffsets(mine.map(({ topic, partition, offset }) => ({ topic, partition, offset }))), late])
      } finally {
        clearTimeout(timer)
      }
    })

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
      // leaves the group, so the remaining members take over its partitions at once
      await consumer.disconnect().catch(() => {})
    })())

  const stopWithinSessionTimeout = Effect.promise(stop).pipe(
    Effect.timeoutOrElse({
      duration: config.sessionTimeoutMs,
      orElse: () => Effect.logWarning(`consumer of group ${group} did not stop within ${config.sessionTimeoutMs}ms`),
    }),
  )

  return Effect.gen(function* () {
    // finalizers run last to first: stop taking, then the dispatcher (interrupt, last commit), then leave
    yield* Effect.addFinalizer(() => stopWithinSessionTimeout)
    const dispatcher = yield* makeKeyedDispatcher({
      handle: subscription.handle,
      concurrency: subscription.concurrency,
      batchPerKey: subscription.batchPerKey,
      bufferSize: config.bufferSize,
      retryInitialMs: config.handlerRetryInitialMs,
      retryMaxMs: config.handlerRetryMaxMs,
      drainMs: config.handlerDrainMs,
      commit: commitHeld,
    })
    yield* Effect.addFinalizer(() => Effect.sync(() => void (stopping = true)))
    const runSync = Effect.runSyncWith(context)

    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      lastContact = Date.now()
      const next = new Map(refsOf(event.payload.memberAssignment).map((ref) => [idOf(ref), ref]))
      // A new member id means the coordinator expelled the old member (its session expired: a
      // pause, a frozen VM): what it held may have been read, committed or reset by others since,
      // so nothing is kept; a partition assigned again is read afresh from the group's commit.
      const expelled = memberId !== undefined && event.payload.memberId !== memberId
      memberId = event.payload.memberId
      const lost = [...held].filter(([id]) => expelled || !next.has(id)).map(([, ref]) => ref)
      const kept = expelled ? [] : [...next].filter(([id]) => held.has(id)).map(([, ref]) => ref)
      held.clear()
      for (const [id, ref] of next) held.set(id, ref)
      runSync(Effect.andThen(dispatcher.revoke(lost), dispatcher.recommit(kept)))
      firstJoin.resolve(event.payload.memberAssignment)
    })
    consumer.on(consumer.events.HEARTBEAT, () => { lastContact = Date.now() })
    // A batch of markers only never reaches eachBatch (kafkajs moves its fetch past it by itself):
    // the commit point passes it too.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const ref = { topic: payload.topic, partition: payload.partition }
      if (payload.batchSize !== 0 || payload.firstOffset === null || !held.has(idOf(ref))) return
      runSync(dispatcher.passed(ref, BigInt(payload.firstOffset), BigInt(payload.lastOffset)))
    })
    consumer.on(consumer.events.CRASH, (event: ConsumerCrashEvent) => {
      // kafkajs has left the group by now: whatever it held may go to other members
      const lost = [...held.values()]
      held.clear()
      runSync(dispatcher.revoke(lost))
      if (stopping) return
      const reason = describeKafkaError(event.payload.error)
      firstJoin.reject(event.payload.error)
      log(
        event.payload.restart
          ? Effect.logWarning(`Kafka consumer crashed, restarting: ${reason}`)
          : Effect.logError(`Kafka consumer crashed and stopped; this subscription delivers nothing more: ${reason}`),
      )
    })

    const eachBatch = async ({ batch, heartbeat, resolveOffset }: EachBatchPayload) => {
      const { topic, partition } = batch
      if (stopping || !held.has(idOf({ topic, partition }))) return
      // A batch fetched before a long pause may arrive after this member's session expired: ask
      // the coordinator first, so a member it no longer knows rejoins instead of handling it.
      if (Date.now() - lastContact > config.sessionTimeoutMs / 2) {
        const known = await heartbeat().then(() => true, () => false)
        if (!known) return
        lastContact = Date.now()
      }
      const messages = batch.messages.map((record) => toBusMessage(topic, partition, record))
      const giveUp = new AbortController()
      const beat = setInterval(() => heartbeat().catch(() => giveUp.abort()), config.heartbeatIntervalMs)
      try {
        const taken = await Effect.runPromiseExitWith(context)(dispatcher.offer(messages, (message) => resolveOffset(message.offset)), { signal: giveUp.signal })
        // A fetched batch may end with transaction markers (a fenced publisher's commits), which
        // are never handed over: once all its messages are taken, commit and fetch past them.
        const lastMessage = messages.at(-1)
        if (lastMessage !== undefined && Exit.isSuccess(taken) && taken.value === messages.length && BigInt(batch.lastOffset()) > BigInt(lastMessage.offset)) {
          runSync(dispatcher.passed({ topic, partition }, BigInt(lastMessage.offset) + 1n, BigInt(batch.lastOffset())))
          resolveOffset(batch.lastOffset())
        }
      } finally {
        clearInterval(beat)
      }
    }

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
    // a failed or interrupted start stops the consumer at once (not when the caller's scope
    // closes), so a retried subscribe leaves no half-joined member behind
    yield* start.pipe(Effect.onError(() => Effect.promise(stop)))
  })
}
