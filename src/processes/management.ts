// The management side's background work: topics, cluster registration, the outbox relay, the
// status and cluster-signal consumers, and the sweeper that notices silent clusters.
import { Effect, Schedule } from "effect"
import { topicSpecs } from "../domain/topics.ts"
import { subscribeClusters } from "../management/cluster-consumer.ts"
import { ClusterRegistry, type SweepOptions } from "../management/cluster-registry.ts"
import { registerLagMetrics } from "../management/lag-metrics.ts"
import { runOutboxRelay } from "../management/outbox-relay.ts"
import { subscribeStatus } from "../management/status-consumer.ts"
import { EventBus } from "../services/event-bus.ts"

export interface ManagementOptions {
  readonly partitions: number
  /** Clusters of this process (all-in-one) that join at start; empty for `fabric rpc`. */
  readonly clusterIds: ReadonlyArray<string>
  readonly sweep: SweepOptions & { readonly intervalMs: number }
}

export const startManagement = (options: ManagementOptions) =>
  Effect.gen(function* () {
    yield* (yield* EventBus).ensureTopics(topicSpecs(options.partitions))
    const registry = yield* ClusterRegistry
    yield* registry.register(options.clusterIds)
    yield* subscribeStatus
    yield* subscribeClusters
    yield* registerLagMetrics
    yield* Effect.forkScoped(runOutboxRelay({ batchSize: 100, idleMs: 100 }))
    yield* Effect.forkScoped(
      registry.sweep(options.sweep).pipe(
        Effect.catch((e) => Effect.logWarning("cluster sweep failed", { error: String(e) })),
        Effect.repeat(Schedule.spaced(options.sweep.intervalMs)),
      ),
    )
    yield* Effect.logInfo("management started", { clusters: options.clusterIds })
  })
