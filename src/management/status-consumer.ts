// Consumes the daemons' observations (fabric.status) in the management group and applies each
// to its project's (or resource's) actor. Undecodable messages go to the DLQ with the reason, never blocking.
import { Effect, Schema } from "effect"
import { NamespaceObservation, ResourceObservation, topics } from "../domain/messages.ts"
import type { ProjectId } from "../domain/project.ts"
import { crashPoint } from "../services/crash-points.ts"
import type { KeyBatch } from "../services/event-bus.ts"
import { followTopic } from "../services/follow-topic.ts"
import { requestIdHeader, withRequestId } from "../services/request-id.ts"
import { sendToDeadLetters } from "../services/dead-letters.ts"
import { withSpanFromMessages } from "../services/trace-context.ts"
import { Observations } from "./observations.ts"

export const managementGroup = "fabric.management"

// A resource's observation is told by its resourceId (tried first: it has a project's fields too).
const decodeObservation = Schema.decodeUnknownExit(Schema.fromJsonString(Schema.Union([ResourceObservation, NamespaceObservation])))

/**
 * The observations of one project that queued up while it was busy: undecodable ones go to the
 * DLQ, the others are applied together. A project's observations come in the order its clusters
 * published them (one key, one partition).
 */
const handleStatusMessages = (messages: KeyBatch) =>
  Effect.gen(function* () {
    // Keyed by project (or resource) id, so one entity's; grouped all the same, whatever a producer keyed.
    const byProject = new Map<ProjectId, NamespaceObservation[]>()
    const byResource = new Map<string, ResourceObservation[]>()
    for (const message of messages) {
      const decoded = decodeObservation(message.value ?? "")
      if (decoded._tag === "Failure") yield* sendToDeadLetters(message, `undecodable observation: ${String(decoded.cause)}`)
      else if ("resourceId" in decoded.value) byResource.set(decoded.value.resourceId, [...(byResource.get(decoded.value.resourceId) ?? []), decoded.value])
      else byProject.set(decoded.value.projectId, [...(byProject.get(decoded.value.projectId) ?? []), decoded.value])
    }
    const recorded = yield* Observations
    for (const [projectId, observations] of byProject) yield* recorded.recordObservations(projectId, observations)
    for (const [resourceId, observations] of byResource) yield* recorded.recordResourceObservations(resourceId, observations)
    yield* crashPoint("management.after-observation")
  }).pipe(
    // Continues the trace of the last observation (the daemons' Daemon.observe), linking the others'.
    withSpanFromMessages("StatusConsumer.apply", messages, { count: messages.length }),
    withRequestId(messages[messages.length - 1]!.headers[requestIdHeader]),
  )

/**
 * Projects handled at once. Each runs one transaction at a time, so this stays below the
 * database pool (10 connections) and leaves room for API calls.
 */
const statusConcurrency = 8

export const subscribeStatus = followTopic({
  group: managementGroup,
  topics: [topics.status],
  concurrency: statusConcurrency,
  handle: handleStatusMessages,
})
