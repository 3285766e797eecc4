// Changes on a real Postgres server: the triggers of migration 004 NOTIFY inside the writing
// transaction (delivered at its commit, never for a rolled-back write, whichever replica wrote),
// and each process LISTENs on ONE dedicated connection (porsager's sql.listen) and fans the
// notifications out in memory, by actor id.
//
// porsager re-issues LISTEN when its connection closes (retrying with backoff while the server is
// away) and calls onlisten each time: notifications sent in between are missed, so the listeners
// are woken once then. What it cannot see is a connection that went silent without closing (a
// firewall or NAT dropping an idle connection; TCP keep-alive notices after minutes). So a probe
// notification to a channel of this process goes round every `probeMs` through the pool; when it
// does not come back, the listening client is replaced by a new one (a new client, because a
// listen that failed once fails at once ever after in the same porsager client).
import { Effect, Layer } from "effect"
import type postgres from "postgres"
import { openPostgres } from "./connection.ts"
import { Unavailable } from "../../src/domain/errors.ts"
import { Changes } from "../../src/services/changes.ts"
import { Database } from "./database.ts"

/** The channels migration 004's triggers notify. */
const channels = { actorChanged: "fabric_actor_changed", outboxWritten: "fabric_outbox_written" } as const

export interface NotificationOptions {
  /** The server (DATABASE_URL); the listening connection is opened apart from the pool. */
  readonly url: string
  /** How often the LISTEN connection is checked end to end (and replaced when it is not listening). */
  readonly probeMs?: number
}

const wakeAll = (listeners: Iterable<() => void>) => {
  for (const listener of [...listeners]) listener()
}

export const changesLayer = (options: NotificationOptions) =>
  Layer.effect(
    Changes,
    Effect.gen(function* () {
      const { pool } = yield* Database
      const byActor = new Map<string, Set<() => void>>()
      const outbox = new Set<() => void>()
      const watchers = () => [...byActor.values()].flatMap((set) => [...set])
      const probeMs = options.probeMs ?? 10_000
      const probeChannel = `fabric_probe_${crypto.randomUUID().replaceAll("-", "")}`
      let probeAnswered = true

      // What a payload wakes, and what to wake after a gap in the subscription.
      const routes: ReadonlyArray<readonly [string, (payload: string) => void, () => void]> = [
        [channels.actorChanged, (id) => wakeAll(id === "" ? watchers() : byActor.get(id) ?? []), () => wakeAll(watchers())],
        [channels.outboxWritten, () => wakeAll(outbox), () => wakeAll(outbox)],
        [probeChannel, () => { probeAnswered = true }, () => {}],
      ]

      // Each listening client is one generation; callbacks of an older one do nothing.
      let generation = 0
      let client: postgres.Sql | undefined
      const close = (sql: postgres.Sql | undefined) => sql?.end({ timeout: 0 }).catch(() => {})
      const subscribe = Effect.tryPromise({
        try: async () => {
          const mine = ++generation
          await close(client)
          client = undefined
          const next = openPostgres(options.url, { max: 1, connect_timeout: 10, onnotice: () => {}, connection: { application_name: "fabric-listen" } })
          try {
            await Promise.all(routes.map(([channel, receive, afterGap]) => {
              let listened = false
              return next.listen(
                channel,
                (payload) => { if (mine === generation) receive(payload) },
                // Called on every (re)LISTEN: all but the very first follow a gap.
                () => { if (mine === generation && (listened || mine > 1)) afterGap(); listened = true },
              )
            }))
          } catch (cause) {
            await close(next)
            throw cause
          }
          client = next
        },
        catch: (cause) => new Unavailable({ message: `cannot LISTEN: ${(cause as Error).message}` }),
      })

      const probe = Effect.gen(function* () {
        if (!probeAnswered) {
          yield* Effect.logWarning("Postgres LISTEN connection is not receiving notifications; subscribing again")
          yield* subscribe
        }
        probeAnswered = false
        yield* Effect.tryPromise({
          try: () => pool`select pg_notify(${probeChannel}, '')`,
          catch: (cause) => new Unavailable({ message: `cannot send the probe: ${(cause as Error).message}` }),
        }).pipe(Effect.timeout(probeMs))
      }).pipe(Effect.catch((e) => Effect.logWarning("Postgres LISTEN probe failed", { error: e.message })))

      yield* subscribe
      yield* Effect.addFinalizer(() => Effect.promise(async () => { generation++; await close(client) }))
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(probeMs), probe)))

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
