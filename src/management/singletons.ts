// The management side's work that must run in ONE replica at a time, each under a lease of its
// own (Leases): whichever replica holds it runs it, and another takes over when that one dies.
// The consumers need none (their groups split the partitions), nor does the membership-notice
// worker (it claims one notice at a time under a lock).
import { Effect } from "effect"
import { Leases } from "../services/leases.ts"
import { gauge, Metrics } from "../services/metrics.ts"

export const singletons = {
  /** Publishes the outbox (outbox-relay.ts). */
  outboxRelay: "outbox-relay",
  /** Marks silent clusters Unreachable and lets deletions go after the deadline (ClusterRegistry.sweep). */
  clusterSweeper: "cluster-sweeper",
  /** Deletes what the retention policy no longer keeps (retention-job.ts). */
  retention: "retention",
} as const

export const singletonLeases: ReadonlyArray<string> = Object.values(singletons)

const leaseHeld = gauge("fabric_lease_held", "1 while this replica holds the lease (runs that singleton), else 0", ["lease"])

/** Registers the lease gauge until the scope closes; a reading that fails is left out of that scrape. */
export const registerLeaseMetrics = Effect.gen(function* () {
  const metrics = yield* Metrics
  const leases = yield* Leases
  yield* metrics.collectAtScrape(leaseHeld, leases.holders(singletonLeases).pipe(
    Effect.map((holders) => singletonLeases.map((lease) => ({
      labels: { lease },
      value: holders.some((h) => h.lease === lease && h.holder === leases.holder) ? 1 : 0,
    }))),
    Effect.catch((e) => Effect.logWarning("metrics: the lease holders could not be read for this scrape", { error: String(e) }).pipe(Effect.as([]))),
  ))
})
