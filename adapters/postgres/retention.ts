// The retention policy's deletes, each bounded by a limit and SKIP LOCKED (several replicas prune
// at once without waiting on each other), each driven by an index so a pass reads only what it
// deletes (outbox_sent, idempotency_keys_by_age: migration 004; history: the primary key). Ages
// are measured on the database's clock, like the timestamps themselves.
import { Effect, Layer } from "effect"
import { Retention, type RetentionPolicy } from "../../src/services/retention.ts"
import { Database, query, unavailable } from "./database.ts"

const seconds = (ms: number) => ms / 1000

const pruneSentOutbox = (olderThanMs: number, limit: number) =>
  query((sql) => sql`
    delete from fabric.outbox where id in (
      select id from fabric.outbox where sent_at < now() - interval '1 second' * ${seconds(olderThanMs)}::float8
      order by sent_at limit ${limit} for update skip locked)`).pipe(Effect.map((r) => r.count))

// History versions run from 1 to the snapshot's version without gaps (each save writes its row in
// the same statement), and pruning takes the oldest: so the newest `keep` rows of an actor are
// exactly the versions above `version - keep`, and an actor at `version <= keep` has nothing to prune.
const pruneHistory = (keep: number, limit: number) =>
  query((sql) => sql`
    delete from fabric.actor_events where (actor_id, version) in (
      select e.actor_id, e.version from fabric.actor_snapshots s
      join fabric.actor_events e on e.actor_id = s.actor_id and e.version <= s.version - ${keep}
      where s.version > ${keep}
      limit ${limit} for update of e skip locked)`).pipe(Effect.map((r) => r.count))

const pruneIdempotencyKeys = (olderThanMs: number, limit: number) =>
  query((sql) => sql`
    delete from fabric.idempotency_keys where (scope, key) in (
      select scope, key from fabric.idempotency_keys where created_at < now() - interval '1 second' * ${seconds(olderThanMs)}::float8
      order by created_at limit ${limit} for update skip locked)`).pipe(Effect.map((r) => r.count))

export const layer = Layer.effect(
  Retention,
  Effect.gen(function* () {
    const database = yield* Database
    const pruneBatch = Effect.fn("Retention.pruneBatch")(function* (policy: RetentionPolicy, limit: number) {
      const outbox = yield* pruneSentOutbox(policy.sentOutboxMs, limit)
      const history = yield* pruneHistory(policy.historyKeep, limit)
      const idempotencyKeys = yield* pruneIdempotencyKeys(policy.idempotencyMs, limit)
      return { outbox, history, idempotencyKeys }
    }, (effect) => effect.pipe(Effect.provideService(Database, database), Effect.mapError(unavailable)))
    return Retention.of({ pruneBatch })
  }),
)
