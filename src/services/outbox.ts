import { Context, type Effect } from "effect"
import type { Unavailable } from "../domain/errors.ts"

export interface OutboxMessage {
  readonly topic: string
  readonly key: string
  readonly value: string | null
  readonly headers: Readonly<Record<string, string>>
}
export interface OutboxRow extends OutboxMessage {
  readonly id: string
}

export interface OutboxLag {
  readonly unsent: number
  /** Age of the oldest unsent row, on the database's clock; 0 when none is waiting. */
  readonly oldestUnsentSeconds: number
}

/** Messages written in the transaction that decided them, published later by the outbox relay. */
export class Outbox extends Context.Service<Outbox, {
  readonly enqueue: (messages: ReadonlyArray<OutboxMessage>) => Effect.Effect<void, Unavailable>
  readonly pendingOutbox: (limit: number) => Effect.Effect<ReadonlyArray<OutboxRow>, Unavailable>
  readonly markSent: (ids: ReadonlyArray<string>) => Effect.Effect<void, Unavailable>
  readonly outboxLag: () => Effect.Effect<OutboxLag, Unavailable>
}>()("fabric/Outbox") {}
