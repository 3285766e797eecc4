// `fabric rpc`: the API, the management actors, the outbox relay and the consumers, on a real
// Postgres server and Kafka. Daemons run as separate `fabric daemon` processes and join through
// fabric.clusters.
import { Effect, Layer, ManagedRuntime } from "effect"
import { makeApp } from "../../rpc/app.ts"
import type { FabricConfig } from "./config.ts"
import { crashHookLayer } from "./crash-hook.ts"
import { processLogs } from "./logs.ts"
import { serveHttp } from "./http.ts"
import { managementLayer } from "./layers.ts"
import { managementBackground, startManagement } from "./management.ts"

export const makeRpcProcess = (config: FabricConfig, operatorToken: string) => {
  const runtime = ManagedRuntime.make(Layer.merge(managementLayer(config), crashHookLayer(config.crashAt)).pipe(Layer.provideMerge(processLogs())))
  const streams = new Set<{ close: () => void }>()
  const app = makeApp({ runtime, operatorToken, watch: { pollMs: config.watchPollMs, keepAliveMs: 15_000, streams } })
  const program = Effect.gen(function* () {
    yield* startManagement({
      partitions: config.partitions,
      clusterIds: [],
      sweep: { unreachableAfterMs: config.unreachableAfterMs, deletionDeadlineMs: config.deletionDeadlineMs, intervalMs: 5_000 },
      ...managementBackground(config),
    })
    return yield* serveHttp(app.fetch, { port: config.port, host: config.host, streams })
  })
  return { runtime, program }
}
