// Gauges computed at scrape time, because they need a query: how far the outbox relay and every
// consumer group are behind. A reading that fails (the outbox's, or the consumer lags as one) is
// left out of that scrape (and logged), so a scrape still answers while the database or the bus
// is down.
import { Effect } from "effect"
import { topics } from "../domain/messages.ts"
import { daemonGroup } from "../domain/topics.ts"
import { EventBus, type LagReading } from "../services/event-bus.ts"
import { MembershipStore } from "../services/membership-store.ts"
import { gauge, Metrics } from "../services/metrics.ts"
import { Outbox, type OutboxLag } from "../services/outbox.ts"
import { clusterSignalsGroup } from "./cluster-consumer.ts"
import { managementGroup } from "./status-consumer.ts"

const outboxUnsent = gauge("fabric_outbox_unsent_messages", "Outbox rows not yet published to the event bus")
const outboxOldestUnsentAge = gauge("fabric_outbox_oldest_unsent_age_seconds", "Age of the oldest outbox row not yet published (0 when none waits)")
const consumerLag = gauge("fabric_consumer_lag_messages", "Messages a consumer group has not committed yet, by group and topic", ["group", "topic"])

const skipped = (what: string) => (e: { readonly _tag: string }) =>
  Effect.logWarning(`metrics: ${what} could not be read for this scrape`, { error: String(e) }).pipe(Effect.as([]))

/** Registers the lag gauges until the scope closes (management processes only). */
export const registerLagMetrics = Effect.gen(function* () {
  const metrics = yield* Metrics
  const outboxStore = yield* Outbox
  const membership = yield* MembershipStore
  const bus = yield* EventBus
  const outbox = (read: (lag: OutboxLag) => number) =>
    outboxStore.outboxLag().pipe(Effect.map((lag) => [{ labels: {}, value: read(lag) }]), Effect.catch(skipped("the outbox lag")))
  yield* metrics.collectAtScrape(outboxUnsent, outbox((lag) => lag.unsent))
  yield* metrics.collectAtScrape(outboxOldestUnsentAge, outbox((lag) => lag.oldestUnsentSeconds))

  // Every daemon of a cluster that has not been removed reads fabric.projects and fabric.resources
  // in its own group. One reading for all of them: each topic's ends are fetched once per scrape.
  const readings = membership.listClusters().pipe(
    Effect.map((clusters): ReadonlyArray<LagReading> => [
      { group: managementGroup, topic: topics.status },
      { group: clusterSignalsGroup, topic: topics.clusters },
      ...clusters.filter((c) => c.phase !== "Removed").flatMap((c) => [topics.projects, topics.resources].map((topic) => ({ group: daemonGroup(c.id), topic }))),
    ]),
  )
  yield* metrics.collectAtScrape(consumerLag, readings.pipe(
    Effect.flatMap((list) => bus.lags(list).pipe(
      Effect.map((lags) => list.map(({ group, topic }, i) => ({ labels: { group, topic }, value: lags[i] ?? 0 }))),
      Effect.catch(skipped("the consumer lags")),
    )),
    Effect.catch(skipped("the cluster list")),
  ))
})
