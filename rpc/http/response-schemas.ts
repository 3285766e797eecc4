// Response bodies of docs/api.md as Effect schemas, for the OpenAPI document (rpc/routes/openapi-document.ts). The
// handlers return the domain types; the compile-time checks at the bottom keep these schemas
// equal to those types, so the document cannot drift from what the server sends.
import { Schema } from "effect"
import { ValidationIssue } from "../../src/domain/errors.ts"
import {
  clusterNamespacePhases, clusterPhases, projectPhases,
  type Account as AccountType, type ClusterRecord as ClusterRecordType, type Project as ProjectType,
} from "../../src/domain/project.ts"
import type { ErrorBody as ErrorBodyType, ErrorCode } from "./errors.ts"

const Timestamp = Schema.String.annotate({ format: "date-time", description: "ISO-8601" })

export const ClusterNamespaceStatus = Schema.Struct({
  phase: Schema.Literals(clusterNamespacePhases),
  reason: Schema.optionalKey(Schema.String),
  observedGeneration: Schema.Int,
  updatedAt: Timestamp,
}).annotate({ identifier: "ClusterNamespaceStatus", description: "The project's namespace in one member cluster." })

export const Project = Schema.Struct({
  id: Schema.String,
  accountId: Schema.String,
  name: Schema.String,
  namespace: Schema.String,
  phase: Schema.Literals(projectPhases),
  generation: Schema.Int,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  clusters: Schema.Record(Schema.String, ClusterNamespaceStatus),
}).annotate({ identifier: "Project", description: "Ready when every Active cluster reports Ready for the current generation." })

export const Account = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  email: Schema.String,
  createdAt: Timestamp,
}).annotate({ identifier: "Account" })

export const ClusterRecord = Schema.Struct({
  id: Schema.String,
  phase: Schema.Literals(clusterPhases),
  lastSeenAt: Schema.NullOr(Timestamp),
}).annotate({ identifier: "Cluster" })

const errorCodes = ["invalid_request", "unauthorized", "forbidden", "not_found", "conflict", "quota_exceeded", "unavailable", "internal"] as const

export const ErrorBody = Schema.Struct({
  error: Schema.Struct({
    code: Schema.Literals(errorCodes),
    message: Schema.String,
    issues: Schema.optionalKey(Schema.Array(ValidationIssue.annotate({ identifier: "ValidationIssue" }))),
  }),
}).annotate({ identifier: "ErrorBody", description: "Every non-2xx answer." })

export const CreatedAccountResponse = Schema.Struct({
  account: Account,
  project: Project,
  apiKey: Schema.NullOr(Schema.String).annotate({ description: "Shown once; null when an Idempotency-Key replay answers." }),
})
export const AccountResponse = Schema.Struct({ account: Account })
export const ProjectResponse = Schema.Struct({ project: Project })
export const ProjectPageResponse = Schema.Struct({
  projects: Schema.Array(Project),
  nextCursor: Schema.NullOr(Schema.String).annotate({ description: "Pass as `cursor` for the next page; null on the last page." }),
})
export const ClusterListResponse = Schema.Struct({ clusters: Schema.Array(ClusterRecord) })
export const ClusterResponse = Schema.Struct({ cluster: ClusterRecord })
export const HealthResponse = Schema.Struct({ status: Schema.Literals(["ok", "ready"]) })

// Each schema's decoded type must be exactly the type the handlers send (both ways assignable).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const agrees = <_ extends true>() => {}
agrees<Same<typeof Project.Type, ProjectType>>()
agrees<Same<typeof Account.Type, AccountType>>()
agrees<Same<typeof ClusterRecord.Type, ClusterRecordType>>()
agrees<Same<typeof ErrorBody.Type, ErrorBodyType>>()
agrees<Same<(typeof errorCodes)[number], ErrorCode>>()
