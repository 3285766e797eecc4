import { Context, Effect, Layer } from "effect"

/**
 * Notifications that something committed, so waiters answer at once instead of polling: an
 * actor's state changed (SSE watchers), or outbox rows may be waiting (the relay). On Postgres
 * they come from the database itself and reach every replica (adapters/postgres/notifications.ts);
 * `Changes.layer` is the in-process version for the embedded single process. Waiters still
 * re-read on a slow timer, in case a notification is lost.
 */
export class Changes extends Context.Service<Changes, {
  /** Called by the actor host once an actor's transaction committed. */
  readonly notify: (actorId: string) => Effect.Effect<void>
  /** Calls `listener` on every change of `actorId` until the returned function is called. */
  readonly listen: (actorId: string, listener: () => void) => Effect.Effect<() => void>
  /** Calls `listener` whenever new outbox rows may be waiting, until the returned function is called. */
  readonly listenOutbox: (listener: () => void) => Effect.Effect<() => void>
}>()("fabric/Changes") {
  /**
   * In-process: the host's notify after each commit is the only signal. It also wakes the relay:
   * an outbox row is only ever written in an actor's transaction, which the host notifies.
   */
  static readonly layer = Layer.sync(Changes, () => {
    const target = new EventTarget()
    const outbox = new EventTarget()
    const subscribe = (on: EventTarget, type: string, listener: () => void) =>
      Effect.sync(() => {
        on.addEventListener(type, listener)
        return () => on.removeEventListener(type, listener)
      })
    return Changes.of({
      notify: (actorId) =>
        Effect.sync(() => {
          target.dispatchEvent(new Event(actorId))
          outbox.dispatchEvent(new Event("written"))
        }),
      listen: (actorId, listener) => subscribe(target, actorId, listener),
      listenOutbox: (listener) => subscribe(outbox, "written", listener),
    })
  })
}
