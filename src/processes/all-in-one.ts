// `fabric dev` (the embedded default) and the all-in-one mode on real engines: the API, the
// management actors and one daemon per cluster in one process. In production the same parts run
// as `fabric rpc` and `fabric daemon` processes.
import { Context, Effect, Layer, ManagedRuntime } from "effect"
import * as simulated from "../../adapters/embedded/cluster.ts"
import * as kubernetes from "../../adapters/kubernetes/cluster.ts"
import { currentContextOf } from "../../adapters/kubernetes/kubeconfig.ts"
import { makeApp } from "../../rpc/app.ts"
import type { FabricConfig } from "../config.ts"
import { runDaemon } from "../daemon/daemon.ts"
import { Cluster } from "../services/cluster.ts"
import { managementLayer } from "./layers.ts"
import { startManagement } from "./management.ts"
import { serveHttp } from "./http.ts"

export interface ClusterPlan {
  readonly id: string
  readonly layer: Layer.Layer<Cluster, unknown>
  /** Present for simulated clusters: tests and the dev process can inspect and steer them. */
  readonly state?: simulated.SimulatedClusterState
}

export const planClusters = (config: FabricConfig): ReadonlyArray<ClusterPlan> =>
  config.kubeconfigs
    ? config.kubeconfigs.map((path) => {
        const id = currentContextOf({ kind: "file", path })
        return { id, layer: kubernetes.layer({ id, kubeconfig: { kind: "file", path } }) }
      })
    : config.simulatedClusters.map((id) => {
        const state = new simulated.SimulatedClusterState({ latencyMs: config.simulatedLatencyMs })
        return { id, state, layer: simulated.layer({ id, state }) }
      })

export const runAllInOne = (config: FabricConfig, operatorToken: string, clusters: ReadonlyArray<ClusterPlan>) => {
  const runtime = ManagedRuntime.make(managementLayer(config))
  const streams = new Set<{ close: () => void }>()
  const program = Effect.gen(function* () {
    yield* startManagement({ partitions: config.partitions, clusterIds: clusters.map((c) => c.id) })
    for (const plan of clusters) {
      const context = yield* Layer.build(plan.layer)
      yield* Effect.provideService(runDaemon(), Cluster, Context.get(context, Cluster))
    }
    const app = makeApp({ runtime, operatorToken, watch: { pollMs: 2_000, keepAliveMs: 15_000, streams } })
    return yield* serveHttp(app.fetch, { port: config.port, host: config.host, streams })
  })
  return { runtime, program }
}
