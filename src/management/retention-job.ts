// The retention job of the management side: deletes, batch after batch, what the policy no longer
// keeps, then waits for the next pass. One replica runs it at a time (singletons.retention); its
// deletes skip locked rows all the same, so a replica that lost the lease unnoticed does no harm.
import { Effect, Schedule } from "effect"
import { Retention, type Pruned, type RetentionPolicy } from "../services/retention.ts"

export interface RetentionJobOptions {
  readonly policy: RetentionPolicy
  /** Rows of each kind per statement: the bound on how long a delete holds its locks. */
  readonly batchSize: number
  readonly intervalMs: number
}

/** One pass: batches until none comes back full. Returns what it deleted. */
export const pruneAll = (policy: RetentionPolicy, batchSize: number) =>
  Effect.gen(function* () {
    const retention = yield* Retention
    const total = { outbox: 0, history: 0, idempotencyKeys: 0 }
    while (true) {
      const batch: Pruned = yield* retention.pruneBatch(policy, batchSize)
      total.outbox += batch.outbox
      total.history += batch.history
      total.idempotencyKeys += batch.idempotencyKeys
      if (Math.max(batch.outbox, batch.history, batch.idempotencyKeys) < batchSize) return total as Pruned
    }
  })

/** Runs forever: a pass now, then one every `intervalMs`; a failed pass is logged and retried at the next. */
export const runRetention = (options: RetentionJobOptions) =>
  pruneAll(options.policy, options.batchSize).pipe(
    Effect.tap((pruned) => pruned.outbox + pruned.history + pruned.idempotencyKeys > 0 ? Effect.logInfo("retention pass deleted rows", pruned) : Effect.void),
    Effect.catch((e) => Effect.logWarning("retention pass failed", { error: String(e) })),
    Effect.repeat(Schedule.spaced(options.intervalMs)),
  )
