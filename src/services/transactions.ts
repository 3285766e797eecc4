import { Context, type Effect } from "effect"
import type { Unavailable } from "../domain/errors.ts"

/**
 * Runs an effect as ONE database transaction: every store it touches (legacy rows, state,
 * outbox) commits together or not at all. A typed failure rolls back and is returned as is.
 * Nested calls join the outer transaction.
 */
export class Transactions extends Context.Service<Transactions, {
  readonly transactionally: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Unavailable, R>
}>()("fabric/Transactions") {}
