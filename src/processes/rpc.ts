// `fabric rpc`: the API, the management actors, the outbox relay and the consumers, on a real
// Postgres server and Kafka. Daemons run as separate `fabric daemon` processes and join through
// fabric.clusters.
import { Effect, Layer, ManagedRuntime } from "effect"
import { makeApp } from "../../rpc/app.ts"
import { makeDrainSwitch } from "../../rpc/http/drain.ts"
import type { FabricConfig } from "./config.ts"
import { processLogs } from "./logs.ts"
import { tracingLayer } from "./tracing.ts"
import { clientAddress, serveHttp } from "./http.ts"
import { managementLayer } from "./layers.ts"
import { managementBackground, startManagement } from "./management.ts"

export const makeRpcProcess = (config: FabricConfig, operatorToken: string) => {
  const runtime = ManagedRuntime.make(managementLayer(config).pipe(Layer.provideMerge(Layer.merge(processLogs(), tracingLayer(config.tracing, "fabric-rpc")))))
  const streams = new Set<{ close: () => void }>()
  const drain = makeDrainSwitch()
  const app = makeApp({ runtime, operatorToken, drain, watch: { pollMs: config.watchPollMs, keepAliveMs: 15_000, streams }, clientAddress })
  const program = Effect.gen(function* () {
    yield* startManagement({
      partitions: config.partitions,
      clusterIds: [],
      sweep: { unreachableAfterMs: config.unreachableAfterMs, deletionDeadlineMs: config.deletionDeadlineMs, intervalMs: 5_000 },
      ...managementBackground(config),
    })
    // Served last, so it is stopped first: requests drain while the consumers and database still run.
    return yield* serveHttp(app.fetch, { port: config.port, host: config.host, streams, drain, drainMs: config.shutdownDrainMs })
  })
  return { runtime, program }
}
