import { Effect } from "effect"
import type { OutboxMessage, OutboxRow } from "../../src/services/state-store.ts"
import { query } from "./database.ts"

export const enqueue = (messages: ReadonlyArray<OutboxMessage>) =>
  messages.length === 0
    ? Effect.void
    : query((sql) => sql`insert into fabric.outbox ${sql(messages.map((m) => ({ topic: m.topic, key: m.key, value: m.value, headers: sql.json(m.headers as never) })))}`).pipe(Effect.asVoid)

export const pendingOutbox = (limit: number) =>
  query((sql) => sql<{ id: string; topic: string; key: string; value: string | null; headers: Record<string, string> }[]>`
    select id::text as id, topic, key, value, headers from fabric.outbox where sent_at is null order by id limit ${limit}`).pipe(
    Effect.map((rows): ReadonlyArray<OutboxRow> => rows.map((r) => ({ ...r }))),
  )

export const markSent = (ids: ReadonlyArray<string>) =>
  ids.length === 0
    ? Effect.void
    : query((sql) => sql`update fabric.outbox set sent_at = now() where id in ${sql(ids.map(BigInt) as never)}`).pipe(Effect.asVoid)

export const outboxBacklog = () =>
  query((sql) => sql<{ n: number }[]>`select count(*)::int as n from fabric.outbox where sent_at is null`).pipe(Effect.map((r) => r[0]?.n ?? 0))
