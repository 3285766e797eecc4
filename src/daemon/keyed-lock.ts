// Mutual exclusion per key (a daemon's project id): work on one project runs one at a time, work
// on different projects runs in parallel. An entry lives only while someone holds or awaits it,
// so the map never grows with the number of projects ever seen.
import { Effect, Option, Semaphore } from "effect"

interface Entry {
  readonly semaphore: Semaphore.Semaphore
  users: number
}

export class KeyedLock {
  readonly #entries = new Map<string, Entry>()

  /** Runs `effect` once no other holder of `key` is running; waits meanwhile. */
  withLock(key: string) {
    return <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.acquireUseRelease(Effect.sync(() => this.#enter(key)), (entry) => entry.semaphore.withPermit(effect), () => Effect.sync(() => this.#leave(key)))
  }

  /** Runs `effect` only if nobody holds or awaits `key` right now (Option.none when skipped). */
  ifFree(key: string) {
    return <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<Option.Option<A>, E, R> =>
      Effect.acquireUseRelease(
        Effect.sync(() => (this.#entries.has(key) ? undefined : this.#enter(key))),
        (entry) => (entry === undefined ? Effect.succeed(Option.none<A>()) : entry.semaphore.withPermit(Effect.map(effect, Option.some))),
        (entry) => (entry === undefined ? Effect.void : Effect.sync(() => this.#leave(key))),
      )
  }

  /** Keys held or awaited now (for tests). */
  get size(): number {
    return this.#entries.size
  }

  #enter(key: string): Entry {
    let entry = this.#entries.get(key)
    if (entry === undefined) {
      entry = { semaphore: Semaphore.makeUnsafe(1), users: 0 }
      this.#entries.set(key, entry)
    }
    entry.users++
    return entry
  }

  #leave(key: string): void {
    const entry = this.#entries.get(key)
    if (entry !== undefined && --entry.users === 0) this.#entries.delete(key)
  }
}
