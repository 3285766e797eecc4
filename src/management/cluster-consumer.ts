// Consumes the daemons' membership signals (fabric.clusters) in the management group.
import { Effect, Schema } from "effect"
import { ClusterSignal, topics } from "../domain/messages.ts"
import { EventBus, type BusMessage } from "../services/event-bus.ts"
import { ClusterRegistry } from "./cluster-registry.ts"
import { sendToDeadLetters } from "../services/dead-letters.ts"

/** Its own group: kafkajs's assignors expect every member of a group to subscribe to the same topics. */
export const clusterSignalsGroup = "fabric.management.clusters"

const decodeSignal = Schema.decodeUnknownExit(Schema.fromJsonString(ClusterSignal))

const handleClusterMessage = (message: BusMessage) =>
  Effect.gen(function* () {
    const decoded = decodeSignal(message.value ?? "")
    if (decoded._tag === "Failure") return yield* sendToDeadLetters(message, `undecodable cluster signal: ${String(decoded.cause)}`)
    yield* (yield* ClusterRegistry).signal(decoded.value)
  })

export const subscribeClusters = Effect.gen(function* () {
  const bus = yield* EventBus
  const context = yield* Effect.context<ClusterRegistry | EventBus>()
  yield* bus.subscribe({
    group: clusterSignalsGroup,
    topics: [topics.clusters],
    fromBeginning: true,
    // Clusters at once, each cluster's signals in order: a heartbeat is one cheap update.
    concurrency: 4,
    batchPerKey: true,
    handle: (messages) => Effect.forEach(messages, handleClusterMessage, { discard: true }).pipe(Effect.provideContext(context)),
  })
})
