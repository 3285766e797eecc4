// Failed logins are limited per client address and in total, in fixed windows: guessing the
// operator token stays slow from one address and from many. Counted in this process's memory:
// with several replicas each limits on its own, which bounds a guesser all the same (replicas
// times the limit) without a database write per failed attempt.

export interface ThrottleOptions {
  readonly perAddress: number
  readonly total: number
  readonly windowMs: number
  /** Addresses remembered at most; the oldest window is forgotten first. */
  readonly maxAddresses?: number
}

export const defaultLoginThrottle: ThrottleOptions = { perAddress: 5, total: 50, windowMs: 60_000, maxAddresses: 10_000 }

interface Window { start: number; failures: number }

export const makeLoginThrottle = (options: ThrottleOptions) => {
  const byAddress = new Map<string, Window>()
  const total: Window = { start: -Infinity, failures: 0 }
  const current = (w: Window, now: number) => (now - w.start >= options.windowMs ? { start: now, failures: 0 } : w)
  const waitSeconds = (w: Window, now: number) => Math.max(1, Math.ceil((w.start + options.windowMs - now) / 1000))

  return {
    /** Seconds to wait before trying again, or undefined when a login may be tried now. */
    retryAfter: (address: string, now: number): number | undefined => {
      const all = current(total, now)
      if (all.failures >= options.total) return waitSeconds(all, now)
      const mine = byAddress.get(address)
      if (mine !== undefined && current(mine, now) === mine && mine.failures >= options.perAddress) return waitSeconds(mine, now)
      return undefined
    },
    failed: (address: string, now: number) => {
      Object.assign(total, current(total, now))
      total.failures++
      const mine = current(byAddress.get(address) ?? { start: now, failures: 0 }, now)
      mine.failures++
      byAddress.delete(address)
      byAddress.set(address, mine)
      if (byAddress.size > (options.maxAddresses ?? Infinity)) byAddress.delete(byAddress.keys().next().value!)
    },
  }
}

export type LoginThrottle = ReturnType<typeof makeLoginThrottle>
