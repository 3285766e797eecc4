import { Schema, Struct } from "effect"
import { AccountId } from "./account.ts"
import { ClusterId } from "./cluster.ts"
import { ProjectId } from "./project.ts"
import { Resource, ResourceId } from "./resource.ts"

/** Kafka topics (docs/architecture.md). */
export const topics = {
  projects: "fabric.projects",
  resources: "fabric.resources",
  status: "fabric.status",
  clusters: "fabric.clusters",
  dlq: "fabric.dlq",
} as const

/** fabric.projects, key = project id, compacted: what every cluster should hold for a project. */
export const DesiredNamespace = Schema.Struct({
  projectId: ProjectId,
  accountId: AccountId,
  namespace: Schema.String,
  generation: Schema.Number,
  deleted: Schema.Boolean,
})
export type DesiredNamespace = typeof DesiredNamespace.Type

/** fabric.status, key = project id: what one cluster observed for one generation. */
export const NamespaceObservation = Schema.Struct({
  projectId: ProjectId,
  clusterId: ClusterId,
  generation: Schema.Number,
  phase: Schema.Literals(["Ready", "Failed", "Deleted"]),
  reason: Schema.optional(Schema.String),
  observedAt: Schema.String,
})
export type NamespaceObservation = typeof NamespaceObservation.Type

/**
 * fabric.resources, key = resource id, compacted: what every cluster should hold for one resource
 * (its object in the project's namespace). A daemon applies it once the namespace is there.
 */
export const DesiredResource = Schema.Struct({
  resourceId: ResourceId,
  ...Struct.pick(Resource.fields, ["projectId", "accountId", "kind", "name", "spec"]),
  namespace: Schema.String,
  generation: Schema.Number,
  deleted: Schema.Boolean,
})
export type DesiredResource = typeof DesiredResource.Type

/** fabric.status, key = resource id: what one cluster observed of one resource generation (a namespace's fields, and the object's). */
export const ResourceObservation = Schema.Struct({
  ...NamespaceObservation.fields,
  resourceId: ResourceId,
  phase: Schema.Literals(["Ready", "Failed", "Unavailable", "Deleted"]),
  /** The object's status conditions (Ready only). */
  conditions: Schema.optional(Schema.Array(Schema.Struct({
    type: Schema.String, status: Schema.String, reason: Schema.optional(Schema.String), message: Schema.optional(Schema.String),
  }))),
})
export type ResourceObservation = typeof ResourceObservation.Type

/** fabric.clusters, key = cluster id: a daemon's membership signals. */
export const ClusterSignal = Schema.Struct({
  clusterId: ClusterId,
  kind: Schema.Literals(["joined", "heartbeat", "left"]),
  at: Schema.String,
  /** On a join: when this daemon began its run. A removal after that stands: only a daemon started since joins again. */
  since: Schema.optional(Schema.String),
  /** On a heartbeat: the catalogued kinds the cluster serves, as its API discovery last said (absent until it has answered). */
  kinds: Schema.optional(Schema.Array(Schema.String)),
})
export type ClusterSignal = typeof ClusterSignal.Type

/** A message that could not be processed, kept with the reason so nothing is lost. */
export const DeadLetter = Schema.Struct({
  topic: Schema.String,
  partition: Schema.Number,
  offset: Schema.String,
  key: Schema.NullOr(Schema.String),
  value: Schema.NullOr(Schema.String),
  reason: Schema.String,
})
export type DeadLetter = typeof DeadLetter.Type

export const encodeJson = (value: unknown): string => JSON.stringify(value)
