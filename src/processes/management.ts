// The management side's background work: topics, the outbox relay and the status consumer.
import { Effect } from "effect"
import { topicSpecs } from "../domain/topics.ts"
import { runOutboxRelay } from "../management/outbox-relay.ts"
import { subscribeStatus } from "../management/status-consumer.ts"
import { Management } from "../management/management.ts"
import { EventBus } from "../services/event-bus.ts"

export const startManagement = (options: { partitions: number; clusterIds: ReadonlyArray<string> }) =>
  Effect.gen(function* () {
    yield* (yield* EventBus).ensureTopics(topicSpecs(options.partitions))
    yield* (yield* Management).registerClusters(options.clusterIds)
    yield* subscribeStatus
    yield* Effect.forkScoped(runOutboxRelay({ batchSize: 100, idleMs: 100 }))
    yield* Effect.logInfo("management started", { clusters: options.clusterIds })
  })
