import { Effect, type Scope } from "effect"
import { EventBus, type EventBusUnavailable, type KeyBatch } from "./event-bus.ts"

export interface FollowOptions<E, R> {
  readonly group: string
  readonly topics: ReadonlyArray<string>
  /** Keys handled at once (Subscription.concurrency). */
  readonly concurrency: number
  readonly handle: (messages: KeyBatch) => Effect.Effect<void, E, R>
}

/**
 * How Fabric's consumers read a topic: from its beginning in their own group (a new group
 * backfills), every queued message of a key handed over at once. The handler runs in the bus's
 * background fibers, so it is given the services of the caller.
 */
export const followTopic = <E, R>(options: FollowOptions<E, R>): Effect.Effect<void, EventBusUnavailable, EventBus | Scope.Scope | R> =>
  Effect.gen(function* () {
    const bus = yield* EventBus
    const context = yield* Effect.context<R>()
    yield* bus.subscribe({
      group: options.group,
      topics: options.topics,
      fromBeginning: true,
      concurrency: options.concurrency,
      batchPerKey: true,
      handle: (messages) => options.handle(messages).pipe(Effect.provideContext(context)),
    })
  })
