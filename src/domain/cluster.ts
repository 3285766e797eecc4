import { Schema } from "effect"
import { Timestamp } from "./timestamp.ts"

/**
 * The id a cluster's daemon announces: a FABRIC_CLUSTERS entry or a kubeconfig's current
 * context. Not checked here (a context name is the cluster's to choose); the API's route
 * parameter adds its own rule.
 */
export const ClusterId = Schema.String.pipe(Schema.brand("ClusterId"))
export type ClusterId = typeof ClusterId.Type

export const clusterPhases = ["Active", "Unreachable", "Removed"] as const
export type ClusterPhase = (typeof clusterPhases)[number]

/** A member of the fleet as the API shows it (GET /v1/clusters). */
export const ClusterRecord = Schema.Struct({
  id: ClusterId,
  phase: Schema.Literals(clusterPhases),
  lastSeenAt: Schema.NullOr(Timestamp),
  kinds: Schema.NullOr(Schema.Array(Schema.String)).annotate({
    description: "The catalogued kinds the cluster serves, as its daemon's API discovery last said; null until it has reported.",
  }),
}).annotate({ identifier: "Cluster" })
export type ClusterRecord = typeof ClusterRecord.Type
