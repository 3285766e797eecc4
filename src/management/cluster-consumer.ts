// Consumes the daemons' membership signals (fabric.clusters) in the management group.
import { Effect, Schema } from "effect"
import { ClusterSignal, topics } from "../domain/messages.ts"
import type { BusMessage } from "../services/event-bus.ts"
import { followTopic } from "../services/follow-topic.ts"
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

export const subscribeClusters = followTopic({
  group: clusterSignalsGroup,
  topics: [topics.clusters],
  // Clusters at once, each cluster's signals in order: a heartbeat is one cheap update.
  concurrency: 4,
  handle: (messages) => Effect.forEach(messages, handleClusterMessage, { discard: true }),
})
