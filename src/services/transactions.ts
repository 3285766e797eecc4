import { Context, type Effect } from "effect"
import type { Unavailable } from "../domain/errors.ts"

/**
 * Runs an effect as ONE database transaction: every store it touches (legacy rows, state,
 * outbox) commits together or not at all. A typed failure rolls back and is returned as is.
 * Nested calls join the outer transaction.
 */
export class Transactions extends Context.Service<Transactions, {
  readonly transactionally: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Unavailable, R>
  /**
   * Runs `write` at the end of the current transaction, right before it commits (in the order
   * registered; at once outside a transaction). Its failure rolls the whole transaction back and
   * is the transaction's failure. For a write that takes a contended row lock: taken last, the
   * lock is held for the commit's round trip only, not for the rest of the transaction.
   */
  readonly atCommit: <E, R>(write: Effect.Effect<void, E, R>) => Effect.Effect<void, E, R>
  /**
   * Runs `effect` so that a typed failure undoes its writes and nothing else: a savepoint of the
   * current transaction (rolled back to on failure), or a transaction of its own outside one. For
   * a try that is retried inside a transaction (an actor's compare-and-set): the failed try leaves
   * nothing behind for the next one to build on.
   */
  readonly undoable: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Unavailable, R>
}>()("fabric/Transactions") {}
