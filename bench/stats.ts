// Latency samples and the way figures are written.

export const quantile = (samples: ReadonlyArray<number>, q: number): number => {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
}

export interface Latency {
  readonly count: number
  readonly p50: number
  readonly p99: number
}

export const latency = (samples: ReadonlyArray<number>): Latency => ({ count: samples.length, p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) })

export const ms = (value: number) => (Number.isNaN(value) ? "n/a" : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`)
export const perSecond = (value: number) => `${value.toFixed(1)}/s`
export const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a")
export const percent = (ratio: number) => (Number.isFinite(ratio) ? `${(ratio * 100).toFixed(0)}%` : "n/a")
export const mebibytes = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`

export const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))
