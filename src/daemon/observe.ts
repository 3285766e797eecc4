import { Clock, Effect } from "effect"
import type { ClusterId } from "../domain/cluster.ts"
import { encodeJson, topics, type DesiredNamespace, type DesiredResource, type NamespaceObservation, type ResourceObservation } from "../domain/messages.ts"
import type { ResourceCondition } from "../domain/resource.ts"
import { EventBus } from "../services/event-bus.ts"
import { requestIdHeader } from "../services/request-id.ts"
import { traceHeaders } from "../services/trace-context.ts"

/** Publishes one observation on fabric.status under `key` (durable when it returns). */
const publishObservation = (key: string, observation: NamespaceObservation | ResourceObservation, requestId: string | undefined) =>
  Effect.gen(function* () {
    yield* (yield* EventBus).publish(topics.status, [{
      key, value: encodeJson(observation),
      headers: { "content-type": "application/json", ...(requestId ? { [requestIdHeader]: requestId } : {}), ...(yield* traceHeaders) },
    }])
    // The request id is a log annotation of the caller (handleDesiredMessage), not repeated here.
    const { observedAt: _, conditions: __, ...fields } = observation as ResourceObservation
    yield* Effect.logInfo("observation published", fields)
  }).pipe(Effect.withSpan("Daemon.observe", {
    kind: "producer",
    attributes: { key, projectId: observation.projectId, cluster: observation.clusterId, generation: observation.generation, phase: observation.phase },
  }))

const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

/** Publishes what this cluster observed for one project generation (durable when it returns). */
export const observe = (desired: DesiredNamespace, clusterId: ClusterId, phase: NamespaceObservation["phase"], reason: string | undefined, requestId: string | undefined) =>
  Effect.gen(function* () {
    yield* publishObservation(desired.projectId, {
      projectId: desired.projectId, clusterId, generation: desired.generation, phase, observedAt: yield* now,
      ...(reason === undefined ? {} : { reason }),
    }, requestId)
  })

/** Publishes what this cluster observed of one resource generation's object (key = resource id). */
export const observeResource = (
  desired: DesiredResource, clusterId: ClusterId, phase: ResourceObservation["phase"],
  details: { readonly reason?: string | undefined; readonly conditions?: ReadonlyArray<ResourceCondition> | undefined }, requestId: string | undefined,
) =>
  Effect.gen(function* () {
    yield* publishObservation(desired.resourceId, {
      resourceId: desired.resourceId, projectId: desired.projectId, clusterId, generation: desired.generation, phase, observedAt: yield* now,
      ...(details.reason === undefined ? {} : { reason: details.reason }),
      ...(details.conditions === undefined ? {} : { conditions: details.conditions }),
    }, requestId)
  })

/** How a foreign object in the way is reported (the handler and the drift check alike). */
export const objectConflictReason = (kind: string, namespace: string, name: string) =>
  `Conflict: ${kind} ${namespace}/${name} exists without Fabric's labels for this resource`

/** How a kind the cluster does not serve is reported. */
export const unservedReason = (kind: string) => `the cluster does not serve ${kind}; looked at again when it does`

/** How a foreign namespace in the way is reported (the handler and the drift check alike). */
export const conflictReason = (namespace: string) => `Conflict: namespace ${namespace} exists without Fabric's labels`

/** How a refused request is reported (the same words from the handler and the drift check). */
export const refusalReason = (reason: string) => `${reason} (refused; tried again at every drift check)`
