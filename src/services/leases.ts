import { Context, Effect, Exit, Layer, Semaphore } from "effect"
import type { Unavailable } from "../domain/errors.ts"

export interface LeaseHolder {
  readonly lease: string
  /** The replica holding it (`Leases.holder` of that process). */
  readonly holder: string
}

/**
 * Work that must run in ONE replica at a time (the outbox relay, the cluster sweeper,
 * retention), with failover: whichever replica holds a lease runs its work, and when the holder
 * dies or loses the lease another one takes it. On Postgres a lease is an advisory lock held on a
 * session of its own, so it ends with that session (adapters/postgres/leases.ts); `Leases.layer`
 * is the in-process version for the embedded default, which is one process.
 *
 * A lease says who should work, not who may: a holder that lost its session may still be running
 * for a moment before it notices. Work whose effects must never overlap fences itself too (the
 * relay's publisher, EventBus.fencedPublisher).
 */
export class Leases extends Context.Service<Leases, {
  /** This process, as `holders` names it (host and pid). */
  readonly holder: string
  /**
   * Never returns: waits until lease `name` is free and takes it, runs `work`, and interrupts
   * `work` as soon as the lease is lost. Work that ends or fails gives the lease up (logged); it
   * is taken again at the next try, by this replica or another. One caller per name per process.
   */
  readonly whileHeld: <A, E, R>(name: string, work: Effect.Effect<A, E, R>) => Effect.Effect<never, never, R>
  /** Who holds each of `leases` now, across every replica, in the order asked; one nobody holds is left out. */
  readonly holders: (leases: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<LeaseHolder>, Unavailable>
}>()("fabric/Leases") {
  /** One process: a permit per name, taken by whichever caller of that name gets it first. */
  static readonly layer = (holder: string) =>
    Layer.sync(Leases, () => {
      const permits = new Map<string, Semaphore.Semaphore>()
      const held = new Set<string>()
      const permitOf = (name: string) => {
        const existing = permits.get(name)
        if (existing !== undefined) return existing
        const created = Semaphore.makeUnsafe(1)
        permits.set(name, created)
        return created
      }
      return Leases.of({
        holder,
        whileHeld: (name, work) =>
          Effect.forever(
            Semaphore.withPermit(permitOf(name))(
              Effect.acquireUseRelease(
                Effect.sync(() => held.add(name)),
                () => work.pipe(Effect.exit, Effect.flatMap((exit) => logGivenUp(name, exit))),
                () => Effect.sync(() => held.delete(name)),
              ),
            ).pipe(Effect.andThen(Effect.sleep(retakeAfterMs))),
          ),
        holders: (leases) => Effect.sync(() => leases.filter((lease) => held.has(lease)).map((lease) => ({ lease, holder }))),
      })
    })
}

/** After work under a lease stopped by itself, the pause before the lease is tried again (others' turn first). */
export const retakeAfterMs = 1_000

/** What `whileHeld` says when work stopped by itself while its lease was held. */
export const logGivenUp = (lease: string, exit: Exit.Exit<unknown, unknown>) =>
  Exit.isSuccess(exit)
    ? Effect.logWarning("work under a lease ended; giving the lease up", { lease })
    : Effect.logWarning("work under a lease failed; giving the lease up", { lease, error: String(Exit.isFailure(exit) ? exit.cause : "") })
