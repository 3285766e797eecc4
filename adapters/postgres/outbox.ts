import { Effect } from "effect"
import { Outbox, type OutboxLag, type OutboxMessage, type OutboxRow } from "../../src/services/outbox.ts"
import { query } from "./database.ts"
import { repositoryLayer } from "./repository-layer.ts"

export const enqueue = (messages: ReadonlyArray<OutboxMessage>) =>
  messages.length === 0
    ? Effect.void
    : query((sql) => sql`insert into fabric.outbox ${sql(messages.map((m) => ({ topic: m.topic, key: m.key, value: m.value, headers: sql.json(m.headers) })))}`).pipe(Effect.asVoid)

export const pendingOutbox = (limit: number) =>
  query((sql) => sql<{ id: string; topic: string; key: string; value: string | null; headers: Record<string, string> }[]>`
    select id::text as id, topic, key, value, headers from fabric.outbox where sent_at is null order by id limit ${limit}`).pipe(
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
