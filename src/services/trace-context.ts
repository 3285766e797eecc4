// W3C Trace Context (`traceparent`) across Fabric's hops: the HTTP request, the outbox row, the
// Kafka message of fabric.projects, the daemon, its observation on fabric.status, management.
// A message carries the context of the span that produced it; whoever handles it continues that
// trace (its span's parent is the message's context). Web-standard only: no Node API here.
import { Clock, Context, Effect, Exit, Option, Tracer } from "effect"

export const traceparentHeader = "traceparent"

/**
 * On where the process exports its spans (src/processes/tracing.ts). Off, messages get no
 * `traceparent` of their own, so nothing that is written or published changes.
 */
export const PropagateTraces = Context.Reference<boolean>("fabric/PropagateTraces", { defaultValue: () => false })

export interface SpanContext {
  readonly traceId: string
  readonly spanId: string
  readonly sampled: boolean
}

/** `00-<32 hex trace id>-<16 hex span id>-<flags>` (version 00). */
export const encodeTraceparent = (span: SpanContext): string => `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/

/**
 * The span a `traceparent` names, as an external parent; undefined when there is none or it is
 * malformed (the spec's rules: lowercase hex, version ff invalid, version 00 has exactly four
 * fields, all-zero ids invalid; a later version may append fields).
 */
export const decodeTraceparent = (value: string | undefined): Tracer.ExternalSpan | undefined => {
  if (value === undefined) return undefined
  const m = traceparentPattern.exec(value.trim())
  if (m === null) return undefined
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined]
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined
  return Tracer.externalSpan({ traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 })
}

/** The span-options part that continues the trace of `headers` (none when they carry no context). */
export const parentFrom = (headers: Readonly<Record<string, string>>): { readonly parent?: Tracer.AnySpan } => {
  const parent = decodeTraceparent(headers[traceparentHeader])
  return parent === undefined ? {} : { parent }
}

/** `{ traceparent }` of the current span, for a message written or published now; `{}` when off. */
export const traceHeaders: Effect.Effect<Record<string, string>> = Effect.gen(function* () {
  if (!(yield* PropagateTraces)) return {} as Record<string, string>
  const span = yield* Effect.option(Effect.currentParentSpan)
  return Option.isSome(span) ? { [traceparentHeader]: encodeTraceparent(span.value) } : {}
})

/**
 * One producer span per message that carries a trace context, a child of that context (and
 * linked to the current span, the batch's): the message goes out carrying its producer span's
 * context instead, and each span ends with `publish`. Used where one call publishes a batch of
 * messages from different traces (the outbox relay). Messages without a context, or with
 * propagation off, go out unchanged.
 */
export const withProducerSpans = <M extends { readonly headers: Readonly<Record<string, string>> }, A, E, R>(
  name: string,
  messages: ReadonlyArray<M>,
  attributes: (message: M) => Record<string, unknown>,
  publish: (messages: ReadonlyArray<M>) => Effect.Effect<A, E, R>,
): Effect.Effect<A, E, R> =>
  Effect.gen(function* () {
    if (!(yield* PropagateTraces)) return yield* publish(messages)
    const batch = yield* Effect.option(Effect.currentSpan)
    const links = Option.isSome(batch) ? [{ span: batch.value, attributes: {} }] : []
    const spans: Array<Tracer.Span> = []
    const out: Array<M> = []
    for (const message of messages) {
      const parent = decodeTraceparent(message.headers[traceparentHeader])
      if (parent === undefined) {
        out.push(message)
        continue
      }
      const span = yield* Effect.makeSpan(name, { parent, kind: "producer", links, attributes: attributes(message) })
      spans.push(span)
      out.push({ ...message, headers: { ...message.headers, [traceparentHeader]: encodeTraceparent(span) } })
    }
    const exit = yield* Effect.exit(publish(out))
    const now = yield* Clock.currentTimeNanos
    for (const span of spans) span.end(now, exit)
    return yield* exit
  })

/**
 * A span around `effect` that continues the trace of the LAST message of a batch and links the
 * others' contexts (several producers' messages handled together, e.g. three daemons'
 * observations of one project).
 */
export const withSpanFromMessages = (name: string, messages: ReadonlyArray<{ readonly headers: Readonly<Record<string, string>> }>, attributes: Record<string, unknown> = {}) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
    const contexts = messages.map((m) => decodeTraceparent(m.headers[traceparentHeader])).filter((s): s is Tracer.ExternalSpan => s !== undefined)
    const parent = contexts.at(-1)
    const links = contexts.slice(0, -1).map((span) => ({ span, attributes: {} }))
    return Effect.withSpan(effect, name, { kind: "consumer", attributes, links, ...(parent === undefined ? {} : { parent }) })
  }

/** Ends a span made by hand (the HTTP request's) now, with an outcome. */
export const endSpan = (span: Tracer.Span, exit: Exit.Exit<unknown, unknown>) =>
  Effect.flatMap(Clock.currentTimeNanos, (now) => Effect.sync(() => span.end(now, exit)))
