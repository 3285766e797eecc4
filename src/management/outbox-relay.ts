// Publishes outbox rows to the event bus in id order, then marks them sent. A crash between the
// two publishes a row again (at-least-once); consumers are idempotent, so nothing is lost and
// a repeat changes nothing.
import { Effect, Latch, Schedule } from "effect"
import { Changes } from "../services/changes.ts"
import { crashPoint } from "../services/crash-points.ts"
import { EventBus } from "../services/event-bus.ts"
import { Outbox } from "../services/outbox.ts"
import { requestIdHeader, withRequestId } from "../services/request-id.ts"
import { withProducerSpans } from "../services/trace-context.ts"

export interface RelayOptions {
  readonly batchSize: number
  /** Re-read the outbox this often even without a notification (one may be lost). */
  readonly fallbackMs: number
}

const relayOnce = (batchSize: number) =>
  Effect.gen(function* () {
    const outbox = yield* Outbox
    const bus = yield* EventBus
    const rows = yield* outbox.pendingOutbox(batchSize)
    // Consecutive rows of one topic go in one send; order across rows is kept.
    let i = 0
    while (i < rows.length) {
      const topic = rows[i]!.topic
      let j = i
      while (j < rows.length && rows[j]!.topic === topic) j++
      yield* crashPoint("relay.before-publish")
      // Each row that carries a trace gets its publish span there, and goes out with its context.
      yield* withProducerSpans("OutboxRelay.publish", rows.slice(i, j), (r) => ({ topic: r.topic, key: r.key, outboxId: r.id }), (batch) =>
        bus.publish(topic, batch.map((r) => ({ key: r.key, value: r.value, headers: r.headers }))))
      yield* crashPoint("relay.after-publish")
      yield* outbox.markSent(rows.slice(i, j).map((r) => r.id))
      // One line per row, carrying the id of the request that wrote it.
      for (const row of rows.slice(i, j)) {
        yield* Effect.logInfo("outbox message published", { topic: row.topic, key: row.key, outboxId: row.id }).pipe(withRequestId(row.headers[requestIdHeader]))
      }
      i = j
    }
    return rows.length
  }).pipe(Effect.withSpan("OutboxRelay.relayOnce"))

/**
 * Runs forever: drains the outbox batch after batch while rows remain, then waits for a
 * notification that rows were written (Changes.listenOutbox), or the fallback interval; backs off
 * while the bus is down.
 */
export const runOutboxRelay = (options: RelayOptions) =>
  Effect.gen(function* () {
    // Open at start: rows left by a previous run go out at once.
    const written = yield* Latch.make(true)
    const changes = yield* Changes
    const drain = Effect.gen(function* () {
      while (true) {
        const sent = yield* relayOnce(options.batchSize).pipe(
          Effect.tapError((e) => Effect.logWarning("outbox relay failed; retrying", { error: String(e) })),
          Effect.retry(Schedule.min([Schedule.exponential("100 millis"), Schedule.spaced("5 seconds")])),
        )
        if (sent < options.batchSize) return
      }
    })
    yield* Effect.acquireUseRelease(
      changes.listenOutbox(() => written.openUnsafe()),
      () =>
        Effect.forever(Effect.gen(function* () {
          // Closed before the read: a notification that arrives while draining opens it again.
          yield* written.close
          yield* drain
          yield* written.await.pipe(Effect.timeoutOption(options.fallbackMs))
        })),
      (unlisten) => Effect.sync(unlisten),
    )
  })
