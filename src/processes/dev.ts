// `fabric dev` (and `fabric` alone): the all-in-one process on the embedded default, or on the
// real engines when DATABASE_URL is set; it serves the API and prints how to reach it.
import { Effect, Layer } from "effect"
import type { FabricConfig } from "./config.ts"
import { makeAllInOne, planClusters } from "./all-in-one.ts"
import { serveHttp, type Served } from "./http.ts"
import { processLogs } from "./logs.ts"
import { tracingLayer } from "./tracing.ts"

export const makeDevProcess = (config: FabricConfig, operatorToken: string, options: { readonly overrides?: Layer.Layer<never> } = {}) => {
  const clusters = planClusters(config)
  const { runtime, app, streams, drain, start } = makeAllInOne(config, { operatorToken, clusters, logs: Layer.merge(processLogs(), tracingLayer(config.tracing, "fabric-dev")), ...options })
  // Served last, so it is stopped first: requests drain while daemons, consumers and database still run.
  const program = Effect.andThen(start, serveHttp(app.fetch, { port: config.port, host: config.host, streams, drain, drainMs: config.shutdownDrainMs }))
  const announce = ({ port }: Served) => {
    const embedded = config.databaseUrl === undefined
    console.log([
      `Fabric is running on http://${config.host}:${port}`,
      `  mode:     ${embedded ? `embedded (data in ${config.dataDir})` : "real engines"}`,
      `  clusters: ${clusters.map((c) => c.id).join(", ")}`,
      config.operatorToken ? "  operator token: from FABRIC_ADMIN_TOKEN" : `  operator token: ${operatorToken}`,
      `  try: FABRIC_TOKEN=${config.operatorToken ? "$FABRIC_ADMIN_TOKEN" : operatorToken} npm run fabric -- account create --name Acme --email ops@acme.test`,
    ].join("\n"))
  }
  return { runtime, program, announce }
}
