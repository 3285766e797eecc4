// Response bodies of docs/api.md as Effect schemas, for the OpenAPI document (rpc/routes/openapi-document.ts).
// The resources are the domain's own schemas (src/domain), whose types the handlers send, so the
// document cannot drift from what the server sends; the error body's check is at the bottom.
import { Schema } from "effect"
import { Account } from "../../src/domain/account.ts"
import { ClusterRecord } from "../../src/domain/cluster.ts"
import { ValidationIssue } from "../../src/domain/errors.ts"
import { KindRecord } from "../../src/domain/kind.ts"
import { Project } from "../../src/domain/project.ts"
import { Resource } from "../../src/domain/resource.ts"
import type { ErrorBody as ErrorBodyType, ErrorCode } from "./errors.ts"

const errorCodes = [
  "invalid_request", "unauthorized", "forbidden", "not_found", "method_not_allowed", "conflict", "quota_exceeded", "too_many_requests", "unavailable", "internal",
] as const

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
export const ResourceResponse = Schema.Struct({ resource: Resource })
export const ResourcePageResponse = Schema.Struct({
  resources: Schema.Array(Resource),
  nextCursor: Schema.NullOr(Schema.String).annotate({ description: "Pass as `cursor` for the next page; null on the last page." }),
})
export const ClusterListResponse = Schema.Struct({ clusters: Schema.Array(ClusterRecord) })
export const ClusterResponse = Schema.Struct({ cluster: ClusterRecord })
export const KindListResponse = Schema.Struct({ kinds: Schema.Array(KindRecord) })
/** The data of a watch stream's last event, `shutdown` (rpc/http/watch-stream.ts). */
export const ShutdownEventData = Schema.Struct({ reason: Schema.String }).annotate({ identifier: "ShutdownEventData", description: "The server is stopping: connect again." })
export const HealthResponse = Schema.Struct({ status: Schema.Literal("ok") })
export const ReadyResponse = Schema.Struct({
  status: Schema.Literal("ready"),
  replica: Schema.String.annotate({ description: "This replica: host and pid." }),
  leases: Schema.Record(Schema.String, Schema.String).annotate({
    description: "The replica holding each singleton's lease (outbox-relay, cluster-sweeper, retention); one between holders is missing.",
  }),
})

// The error body's decoded type must be exactly the type rpc/http/errors.ts sends (both ways assignable).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const agrees = <_ extends true>() => {}
agrees<Same<typeof ErrorBody.Type, ErrorBodyType>>()
agrees<Same<(typeof errorCodes)[number], ErrorCode>>()
