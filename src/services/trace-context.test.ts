import { Effect, Option, Tracer } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import {
  decodeTraceparent, encodeTraceparent, parentFrom, PropagateTraces, traceHeaders, traceparentHeader, withProducerSpans, withSpanFromMessages,
} from "./trace-context.ts"

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
const spanId = "00f067aa0ba902b7"
const header = `00-${traceId}-${spanId}-01`

/** Runs `effect` with a tracer that keeps every span it makes, propagation on (or off). */
const traced = <A, E>(effect: Effect.Effect<A, E>, propagate = true) => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span(options) {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    },
  })
  const value = Effect.runSync(effect.pipe(Effect.provideService(Tracer.Tracer, tracer), Effect.provideService(PropagateTraces, propagate)))
  return { value, spans }
}

const parentId = (span: Tracer.AnySpan) => span._tag === "Span" ? Option.getOrUndefined(span.parent)?.spanId : undefined

test("traceparent: encode and decode are each other's inverse; the sampled flag is the low bit", () => {
  const span = decodeTraceparent(header)!
  assert.equal({ traceId: span.traceId, spanId: span.spanId, sampled: span.sampled, tag: span._tag }, { traceId, spanId, sampled: true, tag: "ExternalSpan" })
  assert.is(encodeTraceparent(span), header)
  assert.is(encodeTraceparent({ traceId, spanId, sampled: false }), `00-${traceId}-${spanId}-00`)
  assert.is(decodeTraceparent(`00-${traceId}-${spanId}-00`)!.sampled, false)
  assert.is(decodeTraceparent(`00-${traceId}-${spanId}-03`)!.sampled, true)
  // A later version may append fields; surrounding whitespace is tolerated.
  assert.is(decodeTraceparent(`01-${traceId}-${spanId}-01-extra`)!.spanId, spanId)
  assert.is(decodeTraceparent(` ${header} `)!.traceId, traceId)
})

test("traceparent: malformed or invalid values decode to no parent", () => {
  for (const bad of [
    undefined, "", "garbage", header.toUpperCase(), `00-${traceId}-${spanId}-01-extra`, `ff-${traceId}-${spanId}-01`,
    `00-${"0".repeat(32)}-${spanId}-01`, `00-${traceId}-${"0".repeat(16)}-01`, `00-${traceId.slice(1)}-${spanId}-01`, `00-${traceId}-${spanId}`,
  ]) assert.is(decodeTraceparent(bad), undefined, String(bad))
  assert.equal(parentFrom({}), {})
  assert.equal(parentFrom({ [traceparentHeader]: "nope" }), {})
  assert.is((parentFrom({ [traceparentHeader]: header }).parent as Tracer.ExternalSpan).spanId, spanId)
})

test("traceHeaders: the current span's context while propagation is on; nothing while off or outside a span", () => {
  const on = traced(Effect.withSpan(traceHeaders, "work"))
  assert.equal(on.value, { [traceparentHeader]: encodeTraceparent(on.spans[0]!) })
  assert.equal(traced(Effect.withSpan(traceHeaders, "work"), false).value, {})
  assert.equal(traced(traceHeaders).value, {})
})

test("a span continued from a message header is a child of the sender's span, in its trace", () => {
  const { value, spans } = traced(Effect.withSpan(traceHeaders, "Daemon.handleDesired", parentFrom({ [traceparentHeader]: header })))
  assert.is(spans[0]!.traceId, traceId)
  assert.is(parentId(spans[0]!), spanId)
  assert.is(decodeTraceparent(value[traceparentHeader])!.spanId, spans[0]!.spanId)
})

test("withProducerSpans: one producer span per traced message, child of its context, linked to the batch; the message carries the new span's context", () => {
  const other = `00-${"a".repeat(32)}-${"b".repeat(16)}-01`
  const messages = [{ id: 1, headers: { [traceparentHeader]: header } }, { id: 2, headers: {} as Record<string, string> }, { id: 3, headers: { [traceparentHeader]: other } }]
  let published: ReadonlyArray<{ id: number; headers: Record<string, string> }> = []
  const { spans } = traced(Effect.withSpan(
    withProducerSpans("OutboxRelay.publish", messages, (m) => ({ outboxId: m.id }), (batch) => Effect.sync(() => { published = batch })),
    "OutboxRelay.relayOnce",
  ))
  const batch = spans.find((s) => s.name === "OutboxRelay.relayOnce")!
  const producers = spans.filter((s) => s.name === "OutboxRelay.publish")
  assert.is(producers.length, 2)
  assert.equal(producers.map((s) => [s.traceId, parentId(s), s.kind, s.attributes.get("outboxId")]), [[traceId, spanId, "producer", 1], ["a".repeat(32), "b".repeat(16), "producer", 3]])
  for (const p of producers) {
    assert.is(p.links[0]!.span.spanId, batch.spanId)
    assert.is(p.status._tag, "Ended")
  }
  assert.equal(published.map((m) => m.headers[traceparentHeader]), [encodeTraceparent(producers[0]!), undefined, encodeTraceparent(producers[1]!)])
})

test("withProducerSpans with propagation off publishes the messages as they are and makes no span", () => {
  const messages = [{ headers: { [traceparentHeader]: header } }]
  let published: unknown
  const { spans } = traced(withProducerSpans("p", messages, () => ({}), (batch) => Effect.sync(() => { published = batch })), false)
  assert.is(published, messages)
  assert.is(spans.length, 0)
})

test("withSpanFromMessages: the span continues the last message's trace and links the others'", () => {
  const first = `00-${traceId}-${"1".repeat(16)}-01`
  const last = `00-${traceId}-${"2".repeat(16)}-01`
  const { spans } = traced(Effect.void.pipe(withSpanFromMessages("StatusConsumer.apply", [{ headers: { [traceparentHeader]: first } }, { headers: {} }, { headers: { [traceparentHeader]: last } }])))
  assert.is(spans[0]!.traceId, traceId)
  assert.is(parentId(spans[0]!), "2".repeat(16))
  assert.equal(spans[0]!.links.map((l) => l.span.spanId), ["1".repeat(16)])
  assert.is(spans[0]!.kind, "consumer")
})

test.run()
