import { Clock, Effect } from "effect"
import type { ClusterId } from "../domain/cluster.ts"
import { encodeJson, topics, type DesiredNamespace, type NamespaceObservation } from "../domain/messages.ts"
import { EventBus } from "../services/event-bus.ts"
import { requestIdHeader } from "../services/request-id.ts"
import { traceHeaders } from "../services/trace-context.ts"

/** Publishes what this cluster observed for one project generation (durable when it returns). */
export const observe = (desired: DesiredNamespace, clusterId: ClusterId, phase: NamespaceObservation["phase"], reason: string | undefined, requestId: string | undefined) =>
  Effect.gen(function* () {
    const observation: NamespaceObservation = {
      projectId: desired.projectId, clusterId, generation: desired.generation, phase,
      observedAt: new Date(yield* Clock.currentTimeMillis).toISOString(),
      ...(reason === undefined ? {} : { reason }),
    }
    yield* (yield* EventBus).publish(topics.status, [{
      key: desired.projectId, value: encodeJson(observation),
      headers: { "content-type": "application/json", ...(requestId ? { [requestIdHeader]: requestId } : {}), ...(yield* traceHeaders) },
    }])
    // The request id is a log annotation of the caller (handleDesiredMessage), not repeated here.
    yield* Effect.logInfo("observation published", { projectId: desired.projectId, clusterId, generation: desired.generation, phase, reason })
  }).pipe(Effect.withSpan("Daemon.observe", { kind: "producer", attributes: { projectId: desired.projectId, cluster: clusterId, generation: desired.generation, phase } }))

/** How a foreign namespace in the way is reported (the handler and the drift check alike). */
export const conflictReason = (namespace: string) => `Conflict: namespace ${namespace} exists without Fabric's labels`

/** How a refused request is reported (the same words from the handler and the drift check). */
export const refusalReason = (reason: string) => `${reason} (refused; tried again at every drift check)`
