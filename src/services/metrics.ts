// The process's metrics: counters, gauges and histograms kept in memory and rendered for
// GET /metrics in the Prometheus text format. Labels are bounded sets (route pattern, method,
// status, cluster, consumer group): never a project or account id, which would grow without end.
import { Context, Effect, Layer, type Scope } from "effect"
import { labelNamePattern, metricNamePattern, renderExposition, type Family, type Labels, type Sample } from "./prometheus-text.ts"

export type LabelValues<L extends string> = Readonly<Record<L, string>>

interface Definition<K extends string, L extends string> {
  readonly kind: K
  readonly name: string
  readonly help: string
  readonly labelNames: ReadonlyArray<L>
}
export interface Counter<L extends string = string> extends Definition<"counter", L> {}
export interface Gauge<L extends string = string> extends Definition<"gauge", L> {}
export interface Histogram<L extends string = string> extends Definition<"histogram", L> {
  /** Upper bounds, ascending; +Inf is implied. */
  readonly buckets: ReadonlyArray<number>
}
type AnyMetric = Counter | Gauge | Histogram

export interface GaugeReading<L extends string> {
  readonly labels: LabelValues<L>
  readonly value: number
}

// A bad name is a programming error: it fails when the module defining the metric loads.
const checkNames = (name: string, labelNames: ReadonlyArray<string>) => {
  if (!metricNamePattern.test(name)) throw new Error(`metric name ${JSON.stringify(name)} is not valid`)
  for (const label of labelNames) if (!labelNamePattern.test(label) || label === "le") throw new Error(`label name ${JSON.stringify(label)} of ${name} is not valid`)
}

export const counter = <const L extends string = never>(name: string, help: string, labelNames: ReadonlyArray<L> = []): Counter<L> => {
  checkNames(name, labelNames)
  return { kind: "counter", name, help, labelNames }
}

export const gauge = <const L extends string = never>(name: string, help: string, labelNames: ReadonlyArray<L> = []): Gauge<L> => {
  checkNames(name, labelNames)
  return { kind: "gauge", name, help, labelNames }
}

export const histogram = <const L extends string = never>(name: string, help: string, labelNames: ReadonlyArray<L>, buckets: ReadonlyArray<number>): Histogram<L> => {
  checkNames(name, labelNames)
  if (buckets.some((b, i) => i > 0 && b <= buckets[i - 1]!)) throw new Error(`buckets of ${name} must ascend`)
  return { kind: "histogram", name, help, labelNames, buckets }
}

/** Seconds, for request latencies: 5 ms to 10 s. */
export const latencyBuckets: ReadonlyArray<number> = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

interface HistogramState {
  readonly labels: Labels
  readonly bucketCounts: number[]
  sum: number
  count: number
}

interface Entry {
  readonly metric: AnyMetric
  readonly values: Map<string, { readonly labels: Labels; value: number }>
  readonly histograms: Map<string, HistogramState>
  /** Set for a gauge computed at scrape time: its samples come only from here. */
  collect?: Effect.Effect<ReadonlyArray<Sample>>
}

const make = () => {
  const entries = new Map<string, Entry>()

  const entryFor = (metric: AnyMetric): Entry => {
    const existing = entries.get(metric.name)
    if (existing === undefined) {
      const entry: Entry = { metric, values: new Map(), histograms: new Map() }
      entries.set(metric.name, entry)
      return entry
    }
    if (existing.metric.kind !== metric.kind || existing.metric.labelNames.join() !== metric.labelNames.join()) {
      throw new Error(`metric ${metric.name} is defined twice with different kinds or labels`)
    }
    return existing
  }

  // Labels in the order the metric declares them, whatever order the caller wrote them in.
  const ordered = (metric: AnyMetric, labels: Labels): { key: string; labels: Labels } => {
    const values = metric.labelNames.map((name) => labels[name] ?? "")
    return { key: JSON.stringify(values), labels: Object.fromEntries(metric.labelNames.map((name, i) => [name, values[i]!])) }
  }

  const addTo = (metric: Counter | Gauge, labels: Labels, delta: number) => {
    const entry = entryFor(metric)
    const { key, labels: sorted } = ordered(metric, labels)
    const current = entry.values.get(key)
    if (current === undefined) entry.values.set(key, { labels: sorted, value: delta })
    else current.value += delta
  }

  // Recording is a synchronous map update, like the Changes service: no span per request.
  const increment = <L extends string>(metric: Counter<L>, labels: LabelValues<L>, by = 1) =>
    Effect.sync(() => {
      if (!(by >= 0)) throw new Error(`counter ${metric.name} cannot go down (by ${by})`)
      addTo(metric, labels, by)
    })

  const add = <L extends string>(metric: Gauge<L>, labels: LabelValues<L>, delta: number) => Effect.sync(() => addTo(metric, labels, delta))

  const observe = <L extends string>(metric: Histogram<L>, labels: LabelValues<L>, value: number) =>
    Effect.sync(() => {
      const entry = entryFor(metric)
      const { key, labels: sorted } = ordered(metric, labels)
      let state = entry.histograms.get(key)
      if (state === undefined) {
        state = { labels: sorted, bucketCounts: metric.buckets.map(() => 0), sum: 0, count: 0 }
        entry.histograms.set(key, state)
      }
      const bucket = metric.buckets.findIndex((bound) => value <= bound)
      if (bucket >= 0) state.bucketCounts[bucket]!++
      state.sum += value
      state.count++
    })

  /** Computes the gauge at every scrape (a value that needs a query) until the scope closes. */
  const collectAtScrape = Effect.fn("Metrics.collectAtScrape")(function* <L extends string>(metric: Gauge<L>, collect: Effect.Effect<ReadonlyArray<GaugeReading<L>>>) {
    const entry = entryFor(metric)
    const samples = collect.pipe(Effect.map((readings) => readings.map((r): Sample => ({ labels: ordered(metric, r.labels).labels, value: r.value }))))
    yield* Effect.acquireRelease(
      Effect.sync(() => { entry.collect = samples }),
      () => Effect.sync(() => { if (entry.collect === samples) delete entry.collect }),
    )
  })

  const render = Effect.fn("Metrics.render")(function* () {
    const sorted = [...entries.values()].sort((a, b) => a.metric.name.localeCompare(b.metric.name))
    const collected = yield* Effect.forEach(sorted, (entry) => entry.collect ?? Effect.succeed(undefined), { concurrency: "unbounded" })
    const byKey = <V>(series: Map<string, V>) => [...series.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v)
    const families = sorted.map((entry, i): Family => {
      const { metric } = entry
      if (metric.kind === "histogram") return { kind: "histogram", name: metric.name, help: metric.help, buckets: metric.buckets, series: byKey(entry.histograms) }
      return { kind: metric.kind, name: metric.name, help: metric.help, samples: collected[i] ?? byKey(entry.values) }
    })
    return renderExposition(families)
  })

  return { increment, add, observe, collectAtScrape, render }
}

/** The process's metric registry (one per runtime). */
export class Metrics extends Context.Service<Metrics, {
  readonly increment: <L extends string>(metric: Counter<L>, labels: LabelValues<L>, by?: number) => Effect.Effect<void>
  readonly add: <L extends string>(metric: Gauge<L>, labels: LabelValues<L>, delta: number) => Effect.Effect<void>
  readonly observe: <L extends string>(metric: Histogram<L>, labels: LabelValues<L>, value: number) => Effect.Effect<void>
  /** The collector must not fail: a reading it cannot take is left out (and logged by it). */
  readonly collectAtScrape: <L extends string>(metric: Gauge<L>, collect: Effect.Effect<ReadonlyArray<GaugeReading<L>>>) => Effect.Effect<void, never, Scope.Scope>
  /** The Prometheus text exposition of every metric, scrape-time gauges computed now. */
  readonly render: () => Effect.Effect<string>
}>()("fabric/Metrics") {
  static readonly layer = Layer.sync(Metrics, () => Metrics.of(make()))
}
