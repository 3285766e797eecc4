// The Idempotency-Key rule of docs/api.md for the creating calls (accounts, projects): the
// first answer under a key is saved in the transaction that created it, and a replay with the
// same body gets it back.
import { Context, Effect, Layer } from "effect"
import { Conflict, type Unavailable } from "../domain/errors.ts"
import { IdempotencyKeys } from "../services/idempotency-keys.ts"
import { Transactions } from "../services/transactions.ts"

export interface Idempotency {
  readonly key: string
  /** Hash of the request body: the same key with another body is a conflict. */
  readonly requestHash: string
}

export class IdempotentRequests extends Context.Service<IdempotentRequests, {
  /**
   * Runs `create` in one transaction, once per Idempotency-Key of `scope`: a replay with the
   * same body returns `replay` of the body `stored` kept of the first answer.
   */
  readonly once: <A, E, R>(
    scope: string,
    idempotency: Idempotency | undefined,
    create: Effect.Effect<A, E, R>,
    stored: (a: A) => unknown,
    replay: (body: unknown) => A,
  ) => Effect.Effect<A, E | Conflict | Unavailable, R>
}>()("fabric/IdempotentRequests") {
  static readonly layer = Layer.effect(IdempotentRequests, Effect.gen(function* () {
    const keys = yield* IdempotencyKeys
    const transactions = yield* Transactions
    const once = <A, E, R>(scope: string, idempotency: Idempotency | undefined, create: Effect.Effect<A, E, R>, stored: (a: A) => unknown, replay: (body: unknown) => A) => {
      if (idempotency === undefined) return transactions.transactionally(create)
      const attempt = transactions.transactionally(Effect.gen(function* () {
        const found = yield* keys.findIdempotent(scope, idempotency.key)
        if (found !== undefined) {
          if (found.requestHash !== idempotency.requestHash) return yield* new Conflict({ message: "this Idempotency-Key was used with a different request body" })
          return replay(found.body)
        }
        const result = yield* create
        yield* keys.saveIdempotent(scope, idempotency.key, { requestHash: idempotency.requestHash, status: 201, body: stored(result) })
        return result
      }))
      // Two requests racing on one key: the loser finds the winner's answer on its second try.
      const inProgress = () => Effect.fail(new Conflict({ message: "a request with this Idempotency-Key is in progress; try again" }))
      return attempt.pipe(
        Effect.catchTag("IdempotencyKeyTaken", () => attempt),
        Effect.catchTag("IdempotencyKeyTaken", inProgress),
      )
    }
    return IdempotentRequests.of({ once })
  }))
}
