// `fabric daemon --cluster <id> --kubeconfig <file>`: one cluster's daemon, on Kafka.
import { Effect, Layer, ManagedRuntime } from "effect"
import * as kubernetes from "../../adapters/kubernetes/cluster.ts"
import type { FabricConfig } from "../config.ts"
import { defaultDaemonOptions, runDaemon } from "../daemon/daemon.ts"
import { topicSpecs } from "../domain/topics.ts"
import { EventBus } from "../services/event-bus.ts"
import { crashHookLayer } from "./crash-hook.ts"
import { kafkaBusLayer } from "./layers.ts"

export const makeDaemonProcess = (config: FabricConfig, clusterId: string, kubeconfig: kubernetes.KubeconfigSource) => {
  const layer = Layer.mergeAll(kafkaBusLayer({ kafkaBrokers: config.kafkaBrokers ?? [], kafkaPrefix: config.kafkaPrefix }), kubernetes.layer({ id: clusterId, kubeconfig }), crashHookLayer(config.crashAt))
  const runtime = ManagedRuntime.make(layer)
  const program = Effect.gen(function* () {
    // Idempotent: a daemon started before `fabric rpc` still finds its topics.
    yield* (yield* EventBus).ensureTopics(topicSpecs(config.partitions))
    yield* runDaemon({ ...defaultDaemonOptions, heartbeatMs: config.heartbeatMs, driftIntervalMs: config.driftIntervalMs })
    return { clusterId }
  })
  return { runtime, program }
}
