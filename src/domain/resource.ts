import { Schema } from "effect"
import { AccountId } from "./account.ts"
import { idPatterns } from "./ids.ts"
import { isDns1123LabelCheck } from "./names.ts"
import { perClusterFields } from "./per-cluster.ts"
import { ProjectId, projectPhases } from "./project.ts"
import { Timestamp } from "./timestamp.ts"

export const ResourceId = Schema.String.check(
  Schema.isPattern(idPatterns.resource, { message: "resourceId must look like res_ followed by 20 characters" }),
).pipe(Schema.brand("ResourceId"))
export type ResourceId = typeof ResourceId.Type

/** A resource's object name in each cluster: a DNS-1123 label, unique per kind within its project. */
export const ResourceName = Schema.String.check(isDns1123LabelCheck("name"))

/** A resource's phases are a project's: Ready when every Active cluster that offers its kind reports Ready for the current generation. */
export const resourcePhases = projectPhases
export type ResourcePhase = (typeof resourcePhases)[number]

/** A project's phases in one cluster, and `Unavailable`: the cluster does not serve the kind (it does not hold the resource back). */
export const clusterResourcePhases = ["Pending", "Ready", "Failed", "Unavailable", "Deleting", "Deleted"] as const
export type ClusterResourcePhase = (typeof clusterResourcePhases)[number]

/** One of the object's `status.conditions`, as the cluster's operator for the kind wrote it. */
export const ResourceCondition = Schema.Struct({
  type: Schema.String,
  status: Schema.String,
  reason: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String),
}).annotate({ identifier: "ResourceCondition" })
export type ResourceCondition = typeof ResourceCondition.Type

export const ClusterResourceStatus = Schema.Struct({
  phase: Schema.Literals(clusterResourcePhases),
  reason: Schema.optionalKey(Schema.String),
  observedGeneration: Schema.Int,
  /** The object's status conditions when the cluster last reported (absent before it has any). */
  conditions: Schema.optionalKey(Schema.Array(ResourceCondition)),
  updatedAt: Timestamp,
}).annotate({ identifier: "ClusterResourceStatus", description: "The resource's object in one member cluster." })
export type ClusterResourceStatus = typeof ClusterResourceStatus.Type

/** A JSON object: a resource's spec (checked against its kind's schema). */
export const Spec = Schema.Record(Schema.String, Schema.Unknown).annotate({ description: "A JSON object valid against the kind's spec schema (GET /v1/kinds)." })
export type Spec = typeof Spec.Type

/** A resource as the API shows it (docs/api.md) and as the read model keeps it; `clusters` by cluster id. */
export const Resource = Schema.Struct({
  id: ResourceId,
  projectId: ProjectId,
  accountId: AccountId,
  kind: Schema.String,
  name: Schema.String,
  spec: Spec,
  ...perClusterFields(resourcePhases, ClusterResourceStatus),
}).annotate({ identifier: "Resource", description: "A custom resource of a catalogued kind in the project's namespace of every cluster that serves the kind." })
export type Resource = typeof Resource.Type
