import { Context, Effect, Layer } from "effect"

/**
 * In-process notifications that an actor's state changed (after its transaction committed), so
 * watchers (SSE) answer at once. Watchers also re-read periodically: a change applied by another
 * replica reaches them that way.
 */
export class Changes extends Context.Service<Changes, {
  readonly notify: (actorId: string) => Effect.Effect<void>
  /** Calls `listener` on every change of `actorId` until the returned function is called. */
  readonly listen: (actorId: string, listener: () => void) => Effect.Effect<() => void>
}>()("fabric/Changes") {
  static readonly layer = Layer.sync(Changes, () => {
    const target = new EventTarget()
    return Changes.of({
      notify: (actorId) => Effect.sync(() => target.dispatchEvent(new Event(actorId))),
      listen: (actorId, listener) =>
        Effect.sync(() => {
          target.addEventListener(actorId, listener)
          return () => target.removeEventListener(actorId, listener)
        }),
    })
  })
}
