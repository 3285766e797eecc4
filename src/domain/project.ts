import { Schema } from "effect"
import { AccountId } from "./account.ts"
import { idPatterns } from "./ids.ts"
import { perClusterFields } from "./per-cluster.ts"
import { Timestamp } from "./timestamp.ts"

export const ProjectId = Schema.String.check(
  Schema.isPattern(idPatterns.project, { message: "projectId must look like prj_ followed by 20 characters" }),
).pipe(Schema.brand("ProjectId"))
export type ProjectId = typeof ProjectId.Type

export const projectPhases = ["Provisioning", "Ready", "Degraded", "Deleting", "Deleted"] as const
export type ProjectPhase = (typeof projectPhases)[number]

export const clusterNamespacePhases = ["Pending", "Ready", "Failed", "Deleting", "Deleted"] as const
export type ClusterNamespacePhase = (typeof clusterNamespacePhases)[number]

export const ClusterNamespaceStatus = Schema.Struct({
  phase: Schema.Literals(clusterNamespacePhases),
  reason: Schema.optionalKey(Schema.String),
  observedGeneration: Schema.Int,
  updatedAt: Timestamp,
}).annotate({ identifier: "ClusterNamespaceStatus", description: "The project's namespace in one member cluster." })
export type ClusterNamespaceStatus = typeof ClusterNamespaceStatus.Type

/** The project as the API shows it (docs/api.md) and as the read model keeps it; `clusters` by cluster id. */
export const Project = Schema.Struct({
  id: ProjectId,
  accountId: AccountId,
  name: Schema.String,
  namespace: Schema.String,
  ...perClusterFields(projectPhases, ClusterNamespaceStatus),
}).annotate({ identifier: "Project", description: "Ready when every Active cluster reports Ready for the current generation." })
export type Project = typeof Project.Type
