import { Effect } from "effect"
import { Outbox, type OutboxLag, type OutboxMessage, type OutboxRow } from "../../src/services/outbox.ts"
import { query } from "./database.ts"
import { repositoryLayer } from "./repository-layer.ts"

export const enqueue = (messages: ReadonlyArray<OutboxMessage>) =>
  messages.length === 0
    ? Effect.void
    : query((sql) => sql`insert into fabric.outbox ${sql(messages.map((m) => ({ topic: m.topic, key: m.key, value: m.value, headers: sql.json(m.headers) })))}`).pipe(Effect.asVoid)

// Ordered by the bigint column, not by the text it is returned as ("10" sorts before "9"):
// the relay publishes in this order, and a project's rows must go out oldest first.
export const pendingOutbox = (limit: number) =>
  query((sql) => sql<{ id: string; topic: string; key: string; value: string | null; headers: Record<string, string> }[]>`
    select o.id::text as id, o.topic, o.key, o.value, o.headers from fabric.outbox o where o.sent_at is null order by o.id limit ${limit}`).pipe(
    Effect.map((rows): ReadonlyArray<OutboxRow> => rows.map((r) => ({ ...r }))),
  )

export const markSent = (ids: ReadonlyArray<string>) =>
  ids.length === 0
    ? Effect.void
    : query((sql) => sql`update fabric.outbox set sent_at = now() where id in ${sql(ids)}`).pipe(Effect.asVoid)

// Both ends of the age on the database's clock (created_at defaults to now()), so a skewed
// application clock cannot make it negative.
export const outboxLag = () =>
  query((sql) => sql<{ unsent: number; oldest_seconds: number }[]>`
    select count(*)::int as unsent, coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as oldest_seconds
    from fabric.outbox where sent_at is null`).pipe(
    Effect.map((rows): OutboxLag => ({ unsent: rows[0]?.unsent ?? 0, oldestUnsentSeconds: Math.max(0, rows[0]?.oldest_seconds ?? 0) })),
  )

/** Outbox on Postgres. */
export const layer = repositoryLayer(Outbox, { enqueue, pendingOutbox, markSent, outboxLag })
