// The management side's background work: topics, cluster registration, the outbox relay, the
// status and cluster-signal consumers, the worker that tells projects of membership changes, the
// sweeper that notices silent clusters, and retention. The relay, the sweeper and retention run
// in one replica at a time, each under its lease (src/management/singletons.ts).
import { Effect, Schedule } from "effect"
import type { FabricConfig } from "./config.ts"
import { topicSpecs } from "../domain/topics.ts"
import { subscribeClusters } from "../management/cluster-consumer.ts"
import { ClusterRegistry, noticePollMs, type SweepOptions } from "../management/cluster-registry.ts"
import { registerLagMetrics } from "../management/lag-metrics.ts"
import { runOutboxRelay } from "../management/outbox-relay.ts"
import { runRetention, type RetentionJobOptions } from "../management/retention-job.ts"
import { registerLeaseMetrics, singletons } from "../management/singletons.ts"
import { subscribeStatus } from "../management/status-consumer.ts"
import { EventBus } from "../services/event-bus.ts"
import { Leases } from "../services/leases.ts"

export interface ManagementOptions {
  readonly partitions: number
  /** Clusters of this process (all-in-one) that join at start; empty for `fabric rpc`. */
  readonly clusterIds: ReadonlyArray<string>
  readonly sweep: SweepOptions & { readonly intervalMs: number }
  /** The relay re-reads the outbox this often without a notification (FABRIC_OUTBOX_POLL_SECONDS). */
  readonly outboxPollMs: number
  readonly retention: RetentionJobOptions
}

/** The relay's fallback and the retention job, from configuration (the same in every process shape). */
export const managementBackground = (config: Pick<FabricConfig, "outboxPollMs" | "outboxRetentionMs" | "historyKeep" | "idempotencyRetentionMs">) => ({
  outboxPollMs: config.outboxPollMs,
  retention: {
    policy: { sentOutboxMs: config.outboxRetentionMs, historyKeep: config.historyKeep, idempotencyMs: config.idempotencyRetentionMs },
    batchSize: 1000,
    intervalMs: 60_000,
  },
})

export const startManagement = (options: ManagementOptions) =>
  Effect.gen(function* () {
    yield* (yield* EventBus).ensureTopics(topicSpecs(options.partitions))
    const registry = yield* ClusterRegistry
    yield* Effect.forkScoped(registry.workOffNotices({ fallbackPollMs: noticePollMs }))
    yield* registry.register(options.clusterIds)
    yield* subscribeStatus
    yield* subscribeClusters
    yield* registerLagMetrics
    yield* registerLeaseMetrics
    const leases = yield* Leases
    yield* Effect.forkScoped(runOutboxRelay({ batchSize: 100, fallbackMs: options.outboxPollMs }))
    yield* Effect.forkScoped(leases.whileHeld(singletons.retention, runRetention(options.retention)))
    yield* Effect.forkScoped(leases.whileHeld(singletons.clusterSweeper,
      registry.sweep(options.sweep).pipe(
        Effect.catch((e) => Effect.logWarning("cluster sweep failed", { error: String(e) })),
        Effect.repeat(Schedule.spaced(options.sweep.intervalMs)),
      ),
    ))
    yield* Effect.logInfo("management started", { clusters: options.clusterIds })
  })
