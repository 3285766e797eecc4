// Load shapes: closed loop (N clients, each sends its next request when the last one answered)
// and open loop (requests sent on a fixed schedule whatever the answers, so a slow server shows
// as latency instead of as fewer requests).
import { performance } from "node:perf_hooks"
import { sleep } from "./stats.ts"

export interface ClosedLoopResult {
  readonly seconds: number
  /** Per operation, ms, in completion order. */
  readonly latencies: number[]
  readonly failures: number
  readonly firstFailure?: string
}

/** Runs `total` operations over `clients` concurrent clients; `op(i, client)` throws on a failure. */
export const closedLoop = async (clients: number, total: number, op: (i: number, client: number) => Promise<void>): Promise<ClosedLoopResult> => {
  let next = 0
  let failures = 0
  let firstFailure: string | undefined
  const latencies: number[] = []
  const t0 = performance.now()
  await Promise.all(Array.from({ length: clients }, async (_, client) => {
    while (next < total) {
      const i = next++
      const started = performance.now()
      try {
        await op(i, client)
        latencies.push(performance.now() - started)
      } catch (e) {
        failures++
        firstFailure ??= String(e)
      }
    }
  }))
  return { seconds: (performance.now() - t0) / 1000, latencies, failures, firstFailure }
}

/**
 * Starts `op(i, scheduledAt)` at `rate` per second for `seconds`, each at its scheduled moment
 * (late timers catch up at once, the lateness counted in the latency, never skipped). Resolves
 * with every operation's promise once the last one was sent.
 */
export const openLoop = async <T>(rate: number, seconds: number, op: (i: number, scheduledAt: number) => Promise<T>) => {
  const total = Math.round(rate * seconds)
  const t0 = performance.now()
  const started: Promise<T>[] = []
  for (let i = 0; i < total; i++) {
    const at = t0 + (i * 1000) / rate
    const wait = at - performance.now()
    if (wait > 1) await sleep(wait)
    started.push(op(i, at))
  }
  return { started, sendSeconds: (performance.now() - t0) / 1000 }
}
