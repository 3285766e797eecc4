// The Prometheus text exposition format (version 0.0.4), rendered from plain values: what
// GET /metrics answers. Pure and web-standard, so it is tested without a registry or a server.

export const expositionContentType = "text/plain; version=0.0.4; charset=utf-8"

export type Labels = Readonly<Record<string, string>>

export interface Sample {
  readonly labels: Labels
  readonly value: number
}

export interface HistogramSeries {
  readonly labels: Labels
  /** Observations per bucket (not cumulative), one entry per upper bound, in the same order. */
  readonly bucketCounts: ReadonlyArray<number>
  readonly sum: number
  readonly count: number
}

export type Family =
  | { readonly kind: "counter" | "gauge"; readonly name: string; readonly help: string; readonly samples: ReadonlyArray<Sample> }
  | { readonly kind: "histogram"; readonly name: string; readonly help: string; readonly buckets: ReadonlyArray<number>; readonly series: ReadonlyArray<HistogramSeries> }

export const metricNamePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
export const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/

const escapeHelp = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")
const escapeLabelValue = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')

const formatValue = (value: number): string =>
  Number.isNaN(value) ? "NaN" : value === Infinity ? "+Inf" : value === -Infinity ? "-Inf" : String(value)

const formatLabels = (labels: Labels): string => {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`
}

const sampleLine = (name: string, labels: Labels, value: number) => `${name}${formatLabels(labels)} ${formatValue(value)}`

const histogramLines = (name: string, buckets: ReadonlyArray<number>, series: HistogramSeries): string[] => {
  const lines: string[] = []
  let cumulative = 0
  buckets.forEach((bound, i) => {
    cumulative += series.bucketCounts[i] ?? 0
    lines.push(sampleLine(`${name}_bucket`, { ...series.labels, le: formatValue(bound) }, cumulative))
  })
  // +Inf always equals the count: observations above the last bound land only there.
  lines.push(sampleLine(`${name}_bucket`, { ...series.labels, le: "+Inf" }, series.count))
  lines.push(sampleLine(`${name}_sum`, series.labels, series.sum))
  lines.push(sampleLine(`${name}_count`, series.labels, series.count))
  return lines
}

/** Every family with its HELP and TYPE lines, then its samples; ends with a newline. */
export const renderExposition = (families: ReadonlyArray<Family>): string => {
  const lines: string[] = []
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`)
    lines.push(`# TYPE ${family.name} ${family.kind}`)
    if (family.kind === "histogram") for (const series of family.series) lines.push(...histogramLines(family.name, family.buckets, series))
    else for (const sample of family.samples) lines.push(sampleLine(family.name, sample.labels, sample.value))
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n"
}
