// `fabric dev` (the embedded default) and the all-in-one mode on real engines: the API, the
// management actors and one daemon per cluster in one process. In production the same parts run
// as `fabric rpc` and `fabric daemon` processes.
import { Context, Effect, Layer, ManagedRuntime } from "effect"
import * as simulated from "../../adapters/embedded/cluster.ts"
import * as kubernetes from "../../adapters/kubernetes/cluster.ts"
import { currentContextOf } from "../../adapters/kubernetes/kubeconfig.ts"
import { makeApp } from "../../rpc/app.ts"
import { makeDrainSwitch } from "../../rpc/http/drain.ts"
import type { FabricConfig } from "./config.ts"
import { defaultDaemonOptions, runDaemon, type DaemonOptions } from "../daemon/daemon.ts"
import { Cluster } from "../services/cluster.ts"
import { clientAddress } from "./http.ts"
import { managementLayer } from "./layers.ts"
import { managementBackground, startManagement } from "./management.ts"
import { PersistentClusterState, simulatedClusterFile } from "./persistent-cluster-state.ts"

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
        const state = new PersistentClusterState(simulatedClusterFile(config.dataDir, id), {
          latencyMs: config.simulatedLatencyMs, unservedKinds: config.simulatedUnservedKinds[id] ?? [],
        })
        return { id, state, layer: simulated.layer({ id, state }) }
      })

export interface AllInOneOptions {
  readonly operatorToken: string
  readonly clusters: ReadonlyArray<ClusterPlan>
  readonly daemon?: Partial<DaemonOptions>
  readonly watchPollMs?: number
  /** The process's loggers (JSON lines in `fabric dev`); Effect's default logger when absent. */
  readonly logs?: Layer.Layer<never>
  /** Services taken over the defaults: the crash-safety test's crash hook (tests/support/fabric-dev-crashing.ts). */
  readonly overrides?: Layer.Layer<never>
}

/** The runtime, the HTTP app (and its drain switch), and `start`: background work that runs until its scope closes. */
export const makeAllInOne = (config: FabricConfig, options: AllInOneOptions) => {
  const runtime = ManagedRuntime.make(Layer.merge(managementLayer(config), options.overrides ?? Layer.empty).pipe(Layer.provideMerge(options.logs ?? Layer.empty)))
  const streams = new Set<{ close: () => void }>()
  const drain = makeDrainSwitch()
  const app = makeApp({ runtime, operatorToken: options.operatorToken, drain, watch: { pollMs: options.watchPollMs ?? config.watchPollMs, keepAliveMs: 15_000, streams }, clientAddress })
  const start = Effect.gen(function* () {
    yield* startManagement({
      partitions: config.partitions,
      clusterIds: options.clusters.map((c) => c.id),
      sweep: { unreachableAfterMs: config.unreachableAfterMs, deletionDeadlineMs: config.deletionDeadlineMs, intervalMs: Math.min(5_000, config.heartbeatMs) },
      ...managementBackground(config),
    })
    for (const plan of options.clusters) {
      const context = yield* Layer.build(plan.layer)
      yield* Effect.provideService(runDaemon({ ...defaultDaemonOptions, heartbeatMs: config.heartbeatMs, driftIntervalMs: config.driftIntervalMs, concurrency: config.daemonConcurrency, ...options.daemon }), Cluster, Context.get(context, Cluster))
    }
  })
  return { runtime, app, streams, drain, start }
}
