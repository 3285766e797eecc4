// Publishes outbox rows to the event bus in id order, then marks them sent. A crash between the
// two publishes a row again (at-least-once); consumers are idempotent, so nothing is lost and
// a repeat changes nothing.
//
// Of any number of replicas, the one holding the outbox lease relays (Leases). The lease alone
// cannot keep a project's order: a replica that lost it and has not noticed yet could still
// publish rows it read before the new holder published newer generations of the same projects,
// and on the compacted fabric.projects that older value would be the one kept. So a turn of
// relaying opens the bus's fenced publisher FIRST and reads the outbox only after: opening it
// fences every earlier turn, in any replica, whose publishes then fail instead of landing late.
// A failed publish ends the turn (its outcome may be unknown); the next turn opens a new
// publisher, then reads again.
import { Effect, Latch } from "effect"
import { Changes } from "../services/changes.ts"
import { crashPoint } from "../services/crash-points.ts"
import { EventBus, type FencedPublisher } from "../services/event-bus.ts"
import { Leases } from "../services/leases.ts"
import { Outbox } from "../services/outbox.ts"
import { requestIdHeader, withRequestId } from "../services/request-id.ts"
import { withProducerSpans } from "../services/trace-context.ts"
import { singletons } from "./singletons.ts"

export interface RelayOptions {
  readonly batchSize: number
  /** Re-read the outbox this often even without a notification (one may be lost). */
  readonly fallbackMs: number
}

/** The fenced publisher's name: on Kafka, with the installation's prefix, the transactional id. */
export const relayPublisher = "fabric.outbox-relay"

/** Backoff between failed turns: doubles from the first to the last, back to the first once a turn publishes. */
const retryMs = { first: 100, last: 5_000 }

const relayOnce = (publisher: FencedPublisher, batchSize: number) =>
  Effect.gen(function* () {
    const outbox = yield* Outbox
    const rows = yield* outbox.pendingOutbox(batchSize)
    if (rows.length === 0) return 0
    yield* crashPoint("relay.before-publish")
    // The whole batch in one publish, per topic in id order. Each row that carries a trace gets
    // its publish span there, and goes out with its context.
    yield* withProducerSpans("OutboxRelay.publish", rows, (r) => ({ topic: r.topic, key: r.key, outboxId: r.id }), (batch) =>
      publisher.publish(batch.map((r) => ({ topic: r.topic, key: r.key, value: r.value, headers: r.headers }))))
    yield* crashPoint("relay.after-publish")
    yield* outbox.markSent(rows.map((r) => r.id))
    // One line per row, carrying the id of the request that wrote it.
    for (const row of rows) {
      yield* Effect.logInfo("outbox message published", { topic: row.topic, key: row.key, outboxId: row.id }).pipe(withRequestId(row.headers[requestIdHeader]))
    }
    return rows.length
  }).pipe(Effect.withSpan("OutboxRelay.relayOnce"))

/**
 * One turn: opens the fenced publisher, then drains the outbox batch after batch while rows
 * remain and waits for a notification that rows were written (or the fallback interval). Ends
 * only by failing.
 */
const relayTurn = (options: RelayOptions, written: Latch.Latch, published: () => void) =>
  Effect.gen(function* () {
    const publisher = yield* (yield* EventBus).fencedPublisher(relayPublisher)
    while (true) {
      // Closed before the read: a notification that arrives while draining opens it again.
      yield* written.close
      let sent: number
      do {
        sent = yield* relayOnce(publisher, options.batchSize)
        if (sent > 0) published()
      } while (sent === options.batchSize)
      yield* written.await.pipe(Effect.timeoutOption(options.fallbackMs))
    }
  }).pipe(Effect.scoped)

/** Relays turn after turn for as long as it runs (while this replica holds the outbox lease). */
const relayWhileHolding = (options: RelayOptions) =>
  Effect.gen(function* () {
    const changes = yield* Changes
    // Open at start: rows left by a previous holder go out at once.
    const written = yield* Latch.make(true)
    yield* Effect.acquireRelease(changes.listenOutbox(() => written.openUnsafe()), (unlisten) => Effect.sync(unlisten))
    let backoff = retryMs.first
    while (true) {
      yield* relayTurn(options, written, () => { backoff = retryMs.first }).pipe(
        Effect.catch((e) => Effect.logWarning("outbox relay failed; retrying", { error: String(e), retryInMs: backoff })),
      )
      yield* Effect.sleep(backoff)
      backoff = Math.min(backoff * 2, retryMs.last)
    }
  }).pipe(Effect.scoped)

/** Runs forever: relays while this replica holds the outbox lease, waits for it otherwise. */
export const runOutboxRelay = (options: RelayOptions) =>
  Effect.gen(function* () {
    const leases = yield* Leases
    return yield* leases.whileHeld(singletons.outboxRelay, relayWhileHolding(options))
  })
