import { Context, type Effect } from "effect"
import type { Unavailable } from "../domain/errors.ts"

/** What Fabric keeps (FABRIC_OUTBOX_RETENTION_SECONDS, FABRIC_HISTORY_KEEP, FABRIC_IDEMPOTENCY_RETENTION_SECONDS). */
export interface RetentionPolicy {
  /** A sent outbox row is deleted this long after it was sent. */
  readonly sentOutboxMs: number
  /** The newest this many history rows (actor events) of each actor are kept. */
  readonly historyKeep: number
  /** An idempotency key is forgotten this long after its response was saved. */
  readonly idempotencyMs: number
}

export interface Pruned {
  readonly outbox: number
  readonly history: number
  readonly idempotencyKeys: number
}

/** Deletes rows the retention policy no longer keeps. */
export class Retention extends Context.Service<Retention, {
  /**
   * Deletes at most `limit` rows of each kind past the policy, one short statement per kind (so
   * no lock is held long), skipping rows another replica is deleting at the same moment.
   */
  readonly pruneBatch: (policy: RetentionPolicy, limit: number) => Effect.Effect<Pruned, Unavailable>
}>()("fabric/Retention") {}
