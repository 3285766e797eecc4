// Client-side rate limit in front of every apiserver request, like client-go's token bucket
// (QPS + burst): an apiserver shared by many tenants must not see a daemon's catch-up storm
// (a cluster joining backfills every live project at once).
//
// Pure bookkeeping, no timers: `reserve(now)` takes a token and says how long to wait before
// using it. The caller sleeps (with Effect's Clock), so tests drive time explicitly.

export interface RateLimit {
  /** Sustained requests per second. `Infinity` disables the limit. */
  readonly qps: number
  /** Requests allowed at once after an idle period (the bucket size), at least 1. */
  readonly burst: number
}

export interface TokenBucket {
  /** Reserves one token; returns the milliseconds to wait before sending (0 = send now). */
  readonly reserve: (nowMs: number) => number
}

export const makeTokenBucket = ({ qps, burst }: RateLimit): TokenBucket => {
  if (!(qps > 0)) throw new RangeError(`rate limit qps must be > 0 (got ${qps})`)
  if (!(burst >= 1) || !Number.isFinite(burst)) throw new RangeError(`rate limit burst must be a finite number >= 1 (got ${burst})`)
  if (qps === Infinity) return { reserve: () => 0 }

  const msPerToken = 1000 / qps
  // Tokens may go negative: each waiter owns a slot in the future, so concurrent callers are
  // spaced out in arrival order instead of all waking at the same instant.
  let tokens = burst
  let updatedAt: number | undefined

  return {
    reserve: (nowMs) => {
      if (updatedAt !== undefined && nowMs > updatedAt) {
        tokens = Math.min(burst, tokens + (nowMs - updatedAt) / msPerToken)
      }
      if (updatedAt === undefined || nowMs > updatedAt) updatedAt = nowMs
      tokens -= 1
      return tokens >= 0 ? 0 : Math.ceil(-tokens * msPerToken)
    },
  }
}
