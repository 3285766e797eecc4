// Leases on a real Postgres server: a lease is a session-level advisory lock (key: Fabric's class
// and a hash of the lease's name), held on ONE connection per process that does nothing else
// (application_name = the holder, which is how holders() and pg_stat_activity name it).
//
// Why an advisory lock and not a lease row with an expiry: the lock lives exactly as long as its
// session. A holder that dies (SIGKILL, OOM, node lost) closes its socket, the server ends the
// session, and a standby takes the lease at its next try (every pollMs), instead of waiting out
// an expiry that must outlast any pause of a live holder. A holder cut off without a close is
// ended by the server's TCP keep-alives and user timeout, set on this session to seconds. What a
// lock cannot do, any more than a row, is stop a holder that has not noticed yet: work that must
// never overlap is fenced where its effect lands (the relay's EventBus.fencedPublisher).
//
// Every pollMs the session is checked: its backend pid and the advisory locks it holds. porsager
// reconnects by itself, and a new session holds nothing: a lease whose lock is not on the
// current session is lost and its work interrupted (at once when porsager reports the close). A
// wanted lease that is free is tried with pg_try_advisory_lock. A check that fails or hangs
// counts as losing every lease: what cannot be seen cannot be held.
import { Effect, Latch, Layer } from "effect"
import { openPostgres } from "./connection.ts"
import { Unavailable } from "../../src/domain/errors.ts"
import { Leases, logGivenUp, retakeAfterMs, type LeaseHolder } from "../../src/services/leases.ts"

export interface LeaseOptions {
  /** The server (DATABASE_URL); the lease session is opened apart from the pool. */
  readonly url: string
  /** This process's name among the replicas; at most 63 bytes (Postgres truncates application_name there). */
  readonly holder: string
  /** How often held leases are checked and free ones tried (default 1 s): the failover delay. */
  readonly pollMs?: number
}

/** The first half of every lease's lock key: Fabric's own class of advisory locks ("Fabr"). */
const leaseClass = 0x46616272

/** FNV-1a, 31 bits: a positive int4, as pg_locks shows it in objid. */
const keyOf = (name: string): number => {
  let hash = 0x811c9dc5
  for (const byte of new TextEncoder().encode(name)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  return hash >>> 1
}

/** One holding of a lease: on which session, and the latch that opens when it is lost. */
interface Term {
  readonly pid: number
  readonly lost: Latch.Latch
}

interface Contender {
  readonly name: string
  readonly key: number
  term: Term | undefined
  /** Open while `term` is set. */
  readonly taken: Latch.Latch
}

const failed = (what: string) => (cause: unknown) => new Unavailable({ message: `${what}: ${(cause as Error)?.message ?? cause}` })

export const leasesLayer = (options: LeaseOptions) =>
  Layer.effect(
    Leases,
    Effect.gen(function* () {
      const pollMs = options.pollMs ?? 1_000
      const context = yield* Effect.context<never>()
      const contenders = new Map<string, Contender>()

      const lose = (contender: Contender) => {
        const term = contender.term
        if (term === undefined) return false
        contender.term = undefined
        Latch.closeUnsafe(contender.taken)
        Latch.openUnsafe(term.lost)
        return true
      }
      const loseAll = () => [...contenders.values()].filter(lose).map((c) => c.name)

      const session = yield* Effect.acquireRelease(
        Effect.sync(() =>
          openPostgres(options.url, {
            max: 1,
            // never replaced on a timer: a new session holds no lock
            max_lifetime: null,
            idle_timeout: 0,
            connect_timeout: 10,
            onnotice: () => {},
            onclose: () => {
              const lost = loseAll()
              if (lost.length > 0) Effect.runForkWith(context)(Effect.logWarning("lease session closed; leases lost", { leases: lost }))
            },
            connection: {
              application_name: options.holder,
              // the server notices a vanished client in about 10 s and ends the session (and its locks)
              tcp_keepalives_idle: 5, tcp_keepalives_interval: 2, tcp_keepalives_count: 3, tcp_user_timeout: 10_000,
            },
          })),
        (sql) => Effect.promise(() => sql.end({ timeout: 0 }).catch(() => {})),
      )

      const run = <A>(what: string, statement: () => PromiseLike<A>, timeoutMs = pollMs * 5) =>
        Effect.tryPromise({ try: statement, catch: failed(what) }).pipe(
          Effect.timeoutOrElse({ duration: timeoutMs, orElse: () => Effect.fail(new Unavailable({ message: `${what}: no answer in ${timeoutMs} ms` })) }),
        )

      const check = Effect.gen(function* () {
        const [state] = yield* run("check the lease session", () => session<{ pid: number; keys: Array<string> }[]>`
          select pg_backend_pid() as pid, coalesce((
            select array_agg(objid::int8::text) from pg_locks
            where locktype = 'advisory' and pid = pg_backend_pid() and classid = ${leaseClass} and objsubid = 2 and granted), '{}') as keys`)
        const keys = new Set(state!.keys.map(Number))
        for (const contender of contenders.values()) {
          const term = contender.term
          if (term !== undefined && (term.pid !== state!.pid || !keys.has(contender.key)) && lose(contender)) {
            yield* Effect.logWarning("lease lost: its lock is not on the lease session any more", { lease: contender.name })
          }
          if (contender.term !== undefined) continue
          // Still held on this session (a failed check dropped it here only): take it back without
          // locking twice, since advisory locks count.
          const ok = keys.has(contender.key) || (yield* run(`try lease ${contender.name}`, () =>
            session<{ ok: boolean }[]>`select pg_try_advisory_lock(${leaseClass}, ${contender.key}) as ok`)
          )[0]!.ok
          if (!ok) continue
          contender.term = { pid: state!.pid, lost: Latch.makeUnsafe(false) }
          Latch.openUnsafe(contender.taken)
        }
      }).pipe(Effect.catch((e) => Effect.gen(function* () {
        const lost = loseAll()
        yield* Effect.logWarning("lease session not checked; leases this process held are lost", { error: e.message, leases: lost })
      })))

      const wake = yield* Latch.make(false)
      yield* Effect.forkScoped(Effect.forever(Effect.gen(function* () {
        yield* wake.close
        yield* check
        yield* wake.await.pipe(Effect.timeoutOption(pollMs))
      })))

      const giveUp = (contender: Contender) =>
        Effect.gen(function* () {
          const term = contender.term
          if (!lose(contender)) return
          // Bounded by one poll: on a shutdown with the server away, the session's end frees it anyway.
          yield* run(`give lease ${contender.name} up`, () =>
            session`select pg_advisory_unlock(${leaseClass}, ${contender.key}) from (select 1) as once where pg_backend_pid() = ${term!.pid}`,
            pollMs,
          ).pipe(Effect.catch(() => Effect.void))
        })

      const whileHeld = <A, E, R>(name: string, work: Effect.Effect<A, E, R>) =>
        Effect.gen(function* () {
          if (contenders.has(name)) return yield* Effect.die(new Error(`lease ${name} is asked for twice in this process`))
          const contender: Contender = { name, key: keyOf(name), term: undefined, taken: Latch.makeUnsafe(false) }
          yield* Effect.acquireRelease(
            Effect.sync(() => contenders.set(name, contender)).pipe(Effect.andThen(wake.open)),
            () => giveUp(contender).pipe(Effect.ensuring(Effect.sync(() => contenders.delete(name)))),
          )
          while (true) {
            yield* contender.taken.await
            const term = contender.term
            if (term === undefined) continue
            yield* Effect.logInfo("lease taken", { lease: name, holder: options.holder })
            const outcome = yield* Effect.raceFirst(work.pipe(Effect.exit), term.lost.await.pipe(Effect.as("lost" as const)))
            if (outcome === "lost") {
              yield* Effect.logWarning("lease lost; its work was stopped", { lease: name })
              continue
            }
            yield* logGivenUp(name, outcome)
            yield* giveUp(contender)
            // another replica's turn first, if one is waiting
            yield* Effect.sleep(retakeAfterMs)
            yield* wake.open
          }
        }).pipe(Effect.scoped)

      const holders = Effect.fn("Leases.holders")(function* (leases: ReadonlyArray<string>) {
        const rows = yield* run("read the lease holders", () => session<{ key: string; holder: string }[]>`
          select l.objid::int8::text as key, a.application_name as holder
          from pg_locks l join pg_stat_activity a on a.pid = l.pid
          where l.locktype = 'advisory' and l.granted and l.classid = ${leaseClass} and l.objsubid = 2
            and l.database = (select oid from pg_database where datname = current_database())`)
        const byKey = new Map(rows.map((r) => [Number(r.key), r.holder]))
        return leases.flatMap((lease): Array<LeaseHolder> => {
          const holder = byKey.get(keyOf(lease))
          return holder === undefined ? [] : [{ lease, holder }]
        })
      })

      return Leases.of({ holder: options.holder, whileHeld, holders })
    }),
  )
