import { Context, Schema, type Effect } from "effect"
import type { Unavailable } from "../domain/errors.ts"

export interface IdempotentResponse {
  readonly requestHash: string
  readonly status: number
  readonly body: unknown
}

/** Another request stored an answer under the same Idempotency-Key first (it may still be running). */
export class IdempotencyKeyTaken extends Schema.TaggedError<IdempotencyKeyTaken>()("IdempotencyKeyTaken", {
  scope: Schema.String,
  key: Schema.String,
}) {}

/** The answers given under each Idempotency-Key, per scope (caller and route). */
export class IdempotencyKeys extends Context.Service<IdempotencyKeys, {
  readonly findIdempotent: (scope: string, key: string) => Effect.Effect<IdempotentResponse | undefined, Unavailable>
  /** Fails with IdempotencyKeyTaken when a concurrent request stored the same key first. */
  readonly saveIdempotent: (scope: string, key: string, response: IdempotentResponse) => Effect.Effect<void, IdempotencyKeyTaken | Unavailable>
}>()("fabric/IdempotencyKeys") {}
