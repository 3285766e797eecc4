// `fabric daemon --cluster <id> --kubeconfig <file> [--metrics-port <port>]`: one cluster's
// daemon, on Kafka; with a metrics port it also serves GET /metrics (reconcile and drift counters).
import { Effect, Layer, ManagedRuntime } from "effect"
import * as kubernetes from "../../adapters/kubernetes/cluster.ts"
import type { FabricConfig } from "./config.ts"
import { defaultDaemonOptions, runDaemon } from "../daemon/daemon.ts"
import { topicSpecs } from "../domain/topics.ts"
import { EventBus } from "../services/event-bus.ts"
import { Metrics } from "../services/metrics.ts"
import { processLogs } from "./logs.ts"
import { tracingLayer } from "./tracing.ts"
import { catalogueLayer, kafkaBusLayer } from "./layers.ts"
import { serveMetrics } from "./metrics-listener.ts"

export const makeDaemonProcess = (config: FabricConfig, clusterId: string, kubeconfig: kubernetes.KubeconfigSource, options: { readonly metricsPort?: number | undefined } = {}) => {
  const layer = Layer.mergeAll(
    kafkaBusLayer({ ...config, kafkaBrokers: config.kafkaBrokers ?? [] }),
    kubernetes.layer({ id: clusterId, kubeconfig }),
    Metrics.layer,
    catalogueLayer(config),
  ).pipe(Layer.provideMerge(Layer.merge(processLogs(), tracingLayer(config.tracing, "fabric-daemon", { "fabric.cluster": clusterId }))))
  const runtime = ManagedRuntime.make(layer)
  const program = Effect.gen(function* () {
    // Idempotent: a daemon started before `fabric rpc` still finds its topics.
    yield* (yield* EventBus).ensureTopics(topicSpecs(config.partitions))
    yield* runDaemon({ ...defaultDaemonOptions, heartbeatMs: config.heartbeatMs, driftIntervalMs: config.driftIntervalMs, concurrency: config.daemonConcurrency })
    const metrics = options.metricsPort === undefined ? undefined : yield* serveMetrics(runtime, { port: options.metricsPort, host: config.host })
    return { clusterId, metricsUrl: metrics && `http://${config.host}:${metrics.port}/metrics` }
  })
  return { runtime, program }
}
