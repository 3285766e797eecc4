// Changes on a real Postgres server: the triggers of migration 004 NOTIFY inside the writing
// transaction (delivered at its commit, never for a rolled-back write, whichever replica wrote),
// and each process LISTENs on ONE dedicated connection (porsager's sql.listen) and fans the
// notifications out in memory, by actor id.
//
// porsager re-issues LISTEN after its connection closes, but drops the subscription silently when
// that LISTEN fails (the server still down at that moment). So a probe notification to a channel
// of this process goes round every `probeMs`; when it does not come back, every channel is
// subscribed again. After any gap the listeners are woken once: they may have missed something.
import { Effect, Layer } from "effect"
import type postgres from "postgres"
import { Unavailable } from "../../src/domain/errors.ts"
import { Changes } from "../../src/services/changes.ts"
import { Database } from "./database.ts"

/** The channels migration 004's triggers notify. */
export const channels = { actorChanged: "fabric_actor_changed", outboxWritten: "fabric_outbox_written" } as const

export interface NotificationOptions {
  /** How often the LISTEN connection is checked end to end (and repaired when it is not listening). */
  readonly probeMs: number
}

const wakeAll = (listeners: Iterable<() => void>) => {
  for (const listener of [...listeners]) listener()
}

export const changesLayer = (options: NotificationOptions = { probeMs: 10_000 }) =>
  Layer.effect(
    Changes,
    Effect.gen(function* () {
      const { pool } = yield* Database
      const byActor = new Map<string, Set<() => void>>()
      const outbox = new Set<() => void>()
      const watchers = () => [...byActor.values()].flatMap((set) => [...set])
      const probeChannel = `fabric_probe_${crypto.randomUUID().replaceAll("-", "")}`
      let probeAnswered = true

      // What a payload wakes, and what to wake after a gap in the subscription.
      const routes: ReadonlyArray<readonly [string, (payload: string) => void, () => void]> = [
        [channels.actorChanged, (id) => wakeAll(id === "" ? watchers() : byActor.get(id) ?? []), () => wakeAll(watchers())],
        [channels.outboxWritten, () => wakeAll(outbox), () => wakeAll(outbox)],
        [probeChannel, () => { probeAnswered = true }, () => {}],
      ]

      // Each subscription is one generation; callbacks of an older one (porsager may still
      // re-listen it) do nothing.
      let generation = 0
      let subscriptions: ReadonlyArray<postgres.ListenMeta> = []
      const subscribe = Effect.tryPromise({
        try: async () => {
          const mine = ++generation
          await Promise.all(subscriptions.map((s) => s.unlisten().catch(() => {})))
          const outcomes = await Promise.allSettled(routes.map(([channel, receive, afterGap]) => {
            let listened = false
            return pool.listen(
              channel,
              (payload) => { if (mine === generation) receive(payload) },
              // Called on every (re)LISTEN: all but the very first follow a gap.
              () => { if (mine === generation && (listened || mine > 1)) afterGap(); listened = true },
            )
          }))
          // Kept even when some failed, so the next attempt unlistens them.
          subscriptions = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []))
          const failed = outcomes.find((o) => o.status === "rejected")
          if (failed) throw failed.reason
        },
        catch: (cause) => new Unavailable({ message: `cannot LISTEN: ${(cause as Error).message}` }),
      })

      const probe = Effect.gen(function* () {
        if (!probeAnswered) {
          yield* Effect.logWarning("Postgres LISTEN connection is not receiving notifications; subscribing again")
          yield* subscribe
        }
        probeAnswered = false
        yield* Effect.tryPromise(() => pool`select pg_notify(${probeChannel}, '')`)
      }).pipe(Effect.catch((e) => Effect.logWarning("Postgres LISTEN probe failed", { error: String(e) })))

      yield* subscribe
      yield* Effect.addFinalizer(() => Effect.promise(() => Promise.all(subscriptions.map((s) => s.unlisten().catch(() => {})))))
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(options.probeMs), probe)))

      const register = (set: Set<() => void>, listener: () => void, onEmpty?: () => void) => {
        set.add(listener)
        return () => {
          set.delete(listener)
          if (set.size === 0) onEmpty?.()
        }
      }
      return Changes.of({
        // The trigger on fabric.actor_snapshots already notified, inside the transaction.
        notify: () => Effect.void,
        listen: (actorId, listener) =>
          Effect.sync(() => {
            const set = byActor.get(actorId) ?? new Set()
            byActor.set(actorId, set)
            return register(set, listener, () => { if (byActor.get(actorId) === set) byActor.delete(actorId) })
          }),
        listenOutbox: (listener) => Effect.sync(() => register(outbox, listener)),
      })
    }),
  )
