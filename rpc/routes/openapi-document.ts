// The OpenAPI 3.1 document of docs/api.md, built from the schemas the server validates with
// (rpc/http/schemas.ts, the routes' param schemas) and the response schemas (rpc/http/response-schemas.ts),
// so clients outside TypeScript get the same rules the validator applies. Served by
// rpc/routes/openapi.ts; rpc/routes/openapi.test.ts checks it against docs/api.md's routes table.
import { JsonSchema, Schema, SchemaRepresentation } from "effect"
import {
  AccountResponse, ClusterListResponse, ClusterResponse, CreatedAccountResponse, ErrorBody, HealthResponse, KindListResponse,
  ProjectPageResponse, ProjectResponse, ReadyResponse, ResourcePageResponse, ResourceResponse, ShutdownEventData,
} from "../http/response-schemas.ts"
import { specJsonSchema, specSchemaOf, type Kind } from "../../src/domain/kind.ts"
import { Project } from "../../src/domain/project.ts"
import { Resource, ResourceId } from "../../src/domain/resource.ts"
import { ClusterIdParam, RemoveClusterQuery } from "./clusters.ts"
import {
  AccountIdParam, CreateAccountBody, CreateProjectBody, CreateResourceBody, DebugLoginForm, ListPageQuery, ListProjectsQuery, PatchResourceBody, ProjectIdParam,
} from "../http/schemas.ts"

type Method = "get" | "post" | "patch" | "delete"
/** "operator session": a browser page; the operator token as a bearer header or its login form's cookie. */
type Access = "anyone" | "operator" | "operator or own key" | "any key" | "operator session"

interface RouteDoc {
  readonly method: Method
  /** OpenAPI path template (`{projectId}`, not Hono's `:projectId`); its parameters are those of `pathParams`. */
  readonly path: string
  readonly operationId: string
  readonly summary: string
  readonly access: Access
  readonly query?: Schema.Constraint
  readonly body?: Schema.Constraint
  /** A form body (application/x-www-form-urlencoded or multipart/form-data), as a browser posts it. */
  readonly form?: Schema.Constraint
  /** The body's media types, when not application/json alone (a merge patch). */
  readonly bodyMedia?: ReadonlyArray<string>
  /** The body holds a resource's spec: with the catalogue at hand, its schema is each kind's (`byKind`). */
  readonly byKind?: "create" | "patch"
  /** Accepts an Idempotency-Key header (docs/api.md, Idempotency). */
  readonly idempotent?: true
  readonly success: {
    readonly status: number
    readonly description: string
    /** A redirect: the target in `Location`. */
    readonly location?: string
    readonly json?: Schema.Constraint
    /** A body that is not JSON (event stream, Prometheus text, HTML). */
    readonly media?: { readonly type: string; readonly description: string; readonly events?: ReadonlyArray<SseEvent> }
  }
  /**
   * Failures besides those every route can answer (400, 405, 503), those its access implies (401,
   * 403) and the 404 of a path parameter that names nothing.
   */
  readonly failures?: ReadonlyArray<ErrorStatus>
  /** Failures answered with an HTML page instead of an ErrorBody (the login form again). */
  readonly pages?: ReadonlyArray<{ readonly status: number; readonly description: string }>
}

/** One kind of server-sent event: its `data` is JSON of `data`; `fields` are the SSE fields it always has besides `event` and `data`. */
interface SseEvent {
  readonly event: string
  readonly description: string
  readonly data: Schema.Constraint
  readonly fields: ReadonlyArray<"id" | "retry">
}

const errorCodeOf = {
  400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
  409: "conflict", 422: "quota_exceeded", 429: "too_many_requests", 503: "unavailable",
} as const
type ErrorStatus = keyof typeof errorCodeOf

// The routes validate both of a resource's path parameters at once (ResourceIdParam); one each here.
const ResourceIdPathParam = Schema.Struct({ resourceId: ResourceId })

/** The schema each path parameter is validated with (the routes' `validate("param", …)`), by its name in the path. */
const pathParams: Readonly<Record<string, Schema.Constraint>> = { accountId: AccountIdParam, projectId: ProjectIdParam, clusterId: ClusterIdParam, resourceId: ResourceIdPathParam }

const pathParamsOf = (route: RouteDoc): ReadonlyArray<Schema.Constraint> =>
  [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => {
    const schema = pathParams[name!]
    if (schema === undefined) throw new Error(`${route.path}: no schema for the path parameter ${name}`)
    return schema
  })

/** A success that answers JSON of `json`. */
const jsonSuccess = (status: number) => (description: string, json: Schema.Constraint): RouteDoc["success"] => ({ status, description, json })
const ok = jsonSuccess(200)
const created = jsonSuccess(201)
const accepted = jsonSuccess(202)

/** GET …/watch of one entity (rpc/http/watch-stream.ts): event `<entity>` with the whole entity at once and on every change, then `shutdown` when the server stops. */
const watchRoute = (path: string, operationId: string, entity: "project" | "resource", schema: Schema.Constraint): RouteDoc => ({
  method: "get", path, operationId, access: "operator or own key",
  summary: `Follow a ${entity}: server-sent events until it is Deleted.`,
  success: {
    status: 200, description: "An event stream.",
    media: {
      type: "text/event-stream",
      description: `Event \`${entity}\` whose data is the whole ${entity} (#/components/schemas/${entity === "project" ? "Project" : "Resource"}) as JSON, sent at once and on every change; comment lines keep the stream alive; event \`shutdown\` last when the server stops.`,
      events: [
        { event: entity, data: schema, fields: ["id"], description: `The whole ${entity}, at once and on every change; \`id\` is \`<generation>:<updatedAt>\`. The stream ends after phase Deleted.` },
        { event: "shutdown", data: ShutdownEventData, fields: ["retry"], description: "The server is stopping: the stream ends; connect again after `retry` milliseconds (with Last-Event-ID)." },
      ],
    },
  },
  failures: [404, 503],
})

const routes: ReadonlyArray<RouteDoc> = [
  {
    method: "post", path: "/v1/accounts", operationId: "createAccount", access: "operator", idempotent: true,
    summary: "Create an account with its default project; the API key is returned once.",
    body: CreateAccountBody,
    success: created("The account, its default project and its API key.", CreatedAccountResponse),
    failures: [409],
  },
  {
    method: "get", path: "/v1/accounts/{accountId}", operationId: "getAccount", access: "operator or own key",
    summary: "Read an account.",
    success: ok("The account.", AccountResponse),
  },
  {
    method: "post", path: "/v1/accounts/{accountId}/projects", operationId: "createProject", access: "operator or own key", idempotent: true,
    summary: "Create a project: a namespace in every member cluster.",
    body: CreateProjectBody,
    success: created("The project, phase Provisioning.", ProjectResponse),
    failures: [409, 422],
  },
  {
    method: "get", path: "/v1/accounts/{accountId}/projects", operationId: "listProjects", access: "operator or own key",
    summary: "List an account's projects, a page at a time (limit 1 to 100, default 20).",
    query: ListProjectsQuery,
    success: ok("One page of projects.", ProjectPageResponse),
  },
  {
    method: "get", path: "/v1/projects/{projectId}", operationId: "getProject", access: "operator or own key",
    summary: "Read a project with its per-cluster status.",
    success: ok("The project.", ProjectResponse),
  },
  watchRoute("/v1/projects/{projectId}/watch", "watchProject", "project", Project),
  {
    method: "delete", path: "/v1/projects/{projectId}", operationId: "deleteProject", access: "operator or own key",
    summary: "Delete a project: its namespace goes from every cluster.",
    success: accepted("The project, phase Deleting.", ProjectResponse),
  },
  {
    method: "post", path: "/v1/projects/{projectId}/resources", operationId: "createResource", access: "operator or own key", idempotent: true,
    summary: "Create a resource of a catalogued kind in the project: its object in the project's namespace of every cluster that serves the kind. The spec is validated against the kind's schema (400 naming each field).",
    body: CreateResourceBody, byKind: "create",
    success: { status: 201, description: "The resource, phase Provisioning.", json: ResourceResponse },
    failures: [404, 409, 422, 503],
  },
  {
    method: "get", path: "/v1/projects/{projectId}/resources", operationId: "listResources", access: "operator or own key",
    summary: "List a project's resources, a page at a time (limit 1 to 100, default 20).",
    query: ListPageQuery,
    success: { status: 200, description: "One page of resources.", json: ResourcePageResponse },
    failures: [404, 503],
  },
  {
    method: "get", path: "/v1/projects/{projectId}/resources/{resourceId}", operationId: "getResource", access: "operator or own key",
    summary: "Read a resource with its per-cluster status.",
    success: { status: 200, description: "The resource.", json: ResourceResponse },
    failures: [404, 503],
  },
  {
    method: "patch", path: "/v1/projects/{projectId}/resources/{resourceId}", operationId: "patchResource", access: "operator or own key",
    summary: "Change a resource's spec with a JSON merge patch (RFC 7386), validated before and after the merge; a change is a new generation.",
    body: PatchResourceBody, bodyMedia: ["application/merge-patch+json", "application/json"], byKind: "patch",
    success: { status: 200, description: "The resource (its generation bumped when the spec changed).", json: ResourceResponse },
    failures: [404, 409, 503],
  },
  {
    method: "delete", path: "/v1/projects/{projectId}/resources/{resourceId}", operationId: "deleteResource", access: "operator or own key",
    summary: "Delete a resource: its object goes from every cluster.",
    success: { status: 202, description: "The resource, phase Deleting.", json: ResourceResponse },
    failures: [404, 503],
  },
  watchRoute("/v1/projects/{projectId}/resources/{resourceId}/watch", "watchResource", "resource", Resource),
  {
    method: "get", path: "/v1/clusters", operationId: "listClusters", access: "operator",
    summary: "List member clusters.",
    success: ok("Every cluster Fabric knows.", ClusterListResponse),
  },
  {
    method: "delete", path: "/v1/clusters/{clusterId}", operationId: "removeCluster", access: "operator",
    summary: "Remove a cluster from the fleet: projects stop waiting for it; its namespaces are left alone. The last Active cluster only with force=true (409 otherwise).",
    query: RemoveClusterQuery,
    success: accepted("The cluster, phase Removed.", ClusterResponse),
    failures: [409],
  },
  {
    method: "get", path: "/v1/kinds", operationId: "listKinds", access: "any key",
    summary: "List the catalogue: the kinds a project's resources may be, each with the schema its spec is validated against.",
    success: { status: 200, description: "Every kind of the catalogue.", json: KindListResponse },
    failures: [503],
  },
  {
    method: "get", path: "/healthz", operationId: "healthz", access: "anyone",
    summary: "Liveness.",
    success: ok("The process is live.", HealthResponse),
  },
  {
    method: "get", path: "/readyz", operationId: "readyz", access: "anyone",
    summary: "Readiness: the database answers. Also names the replica holding each singleton's lease.",
    success: ok("Ready to serve.", ReadyResponse),
    failures: [503],
  },
  {
    method: "get", path: "/metrics", operationId: "metrics", access: "anyone",
    summary: "Prometheus metrics (no label per project or account).",
    success: { status: 200, description: "Metrics.", media: { type: "text/plain", description: "Prometheus text exposition format." } },
  },
  {
    method: "get", path: "/debug", operationId: "debugUi", access: "operator session",
    summary: "The state-machine visualiser.",
    success: { status: 200, description: "An HTML page.", media: { type: "text/html", description: "The visualiser." } },
    pages: [{ status: 401, description: "No operator token and no session: the login form." }],
  },
  {
    method: "post", path: "/debug/login", operationId: "debugLogin", access: "anyone",
    summary: "The visualiser's login form: the operator token for a session cookie.",
    form: DebugLoginForm,
    success: { status: 303, description: "Logged in: a session cookie (HttpOnly, SameSite=Strict, Path=/debug), back to the visualiser.", location: "/debug" },
    failures: [403, 429],
    pages: [{ status: 401, description: "Not the operator token: the login form again (counts as a failed login)." }],
  },
  {
    method: "post", path: "/debug/logout", operationId: "debugLogout", access: "anyone",
    summary: "End the visualiser's session, on every replica (the session cannot be used again).",
    success: { status: 303, description: "Logged out: the cookie is cleared, back to the login form.", location: "/debug" },
    failures: [403],
  },
  {
    method: "get", path: "/openapi.json", operationId: "openapi", access: "anyone",
    summary: "This document.",
    success: { status: 200, description: "OpenAPI 3.1.", media: { type: "application/json", description: "An OpenAPI 3.1 document." } },
  },
]

/** Compiles the schemas together, so those with an identifier (Project, ErrorBody) become shared components. */
const compile = (schemas: readonly [Schema.Constraint, ...Array<Schema.Constraint>]) => {
  // The JSON codec's encoded side: what travels over the wire.
  const [first, ...rest] = schemas.map((schema) => Schema.toCodecJson(schema).ast)
  const document = JsonSchema.toMultiDocumentOpenApi3_1(
    SchemaRepresentation.toJsonSchemaMultiDocument(SchemaRepresentation.toRepresentations([first!, ...rest])),
  )
  const compiled = new Map(schemas.map((schema, i) => [schema, document.schemas[i]!]))
  return { of: (schema: Schema.Constraint) => compiled.get(schema)!, components: document.definitions }
}

// The JSON codec writes an absent optional field as null; a query string has no null, so drop it.
const withoutNull = (schema: JsonSchema.JsonSchema): JsonSchema.JsonSchema => {
  const branches = Array.isArray(schema.anyOf) ? (schema.anyOf as ReadonlyArray<JsonSchema.JsonSchema>).filter((b) => b.type !== "null") : undefined
  return branches?.length === 1 ? branches[0]! : schema
}

/** One OpenAPI parameter per property of a validator's object schema. */
const parametersOf = (location: "path" | "query", objectSchema: JsonSchema.JsonSchema) => {
  const properties = (objectSchema.properties ?? {}) as Record<string, JsonSchema.JsonSchema>
  const required = new Set((objectSchema.required ?? []) as ReadonlyArray<string>)
  return Object.entries(properties).map(([name, schema]) => ({
    name, in: location, required: location === "path" || required.has(name), schema: location === "query" ? withoutNull(schema) : schema,
  }))
}

/**
 * A non-JSON body's schema. For `text/event-stream`, OpenAPI 3.1 has `schema` describe one event
 * as an object of its SSE fields (as OpenAPI 3.2's `itemSchema` does); `data` is a JSON text whose
 * schema is `contentSchema`.
 */
const mediaSchema = (media: NonNullable<RouteDoc["success"]["media"]>, of: (schema: Schema.Constraint) => JsonSchema.JsonSchema) =>
  media.events === undefined
    ? { type: "string", description: media.description }
    : {
      description: media.description,
      oneOf: media.events.map((e) => ({
        type: "object",
        description: e.description,
        required: ["event", "data", ...e.fields],
        properties: {
          event: { const: e.event },
          data: { type: "string", contentMediaType: "application/json", contentSchema: of(e.data) },
          id: { type: "string" },
          retry: { type: "integer", minimum: 0 },
        },
        additionalProperties: false,
      })),
    }

const formMediaTypes = ["application/x-www-form-urlencoded", "multipart/form-data"]

/** The header that comes with an error status, beside the ErrorBody. */
const errorHeaders: Partial<Record<ErrorStatus, { name: string; description: string; schema: Record<string, string> }>> = {
  405: { name: "Allow", description: "the methods this path serves (the request's method is not one)", schema: { type: "string" } },
  429: { name: "Retry-After", description: "seconds until another try is let through", schema: { type: "integer" } },
  503: { name: "Retry-After", description: "seconds to wait before sending the request again (when the process is shutting down)", schema: { type: "integer" } },
}

const idempotencyKeyHeader = {
  name: "Idempotency-Key", in: "header", required: false,
  description: "The same key with the same body returns the first response and creates nothing new; with another body: 409.",
  schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$" },
}

const accessNote: Record<Access, string> = {
  anyone: "No token needed.",
  operator: "Operator token only; an account API key gets 403.",
  "operator or own key": "Operator token, or the API key of the owning account (another account's resource answers 404).",
  "any key": "Operator token, or any account's API key.",
  "operator session": "Operator token as a bearer header, or the session cookie of the login form this page answers (401, HTML) to anyone else.",
}

const errorStatusesOf = (route: RouteDoc): ReadonlyArray<ErrorStatus> => {
  const implied: ErrorStatus[] = []
  // Bad input; on every route a body that cannot be read (over the limit, JSON that is not UTF-8: rpc/app.ts).
  implied.push(400)
  if (route.access === "operator" || route.access === "operator or own key" || route.access === "any key") implied.push(401)
  if (route.access === "operator") implied.push(403)
  // An id that names nothing (or, for an account's key, another account's resource).
  if (pathParamsOf(route).length > 0) implied.push(404)
  // Any other method on a documented path (rpc/http/method-not-allowed.ts).
  implied.push(405)
  // A process that is stopping answers every request so (rpc/drain.ts).
  implied.push(503)
  return [...new Set([...implied, ...(route.failures ?? [])])].sort((a, b) => a - b)
}

/**
 * A resource's body with each kind's spec schema (so a client outside TypeScript, or a fuzzer,
 * knows what the server checks): a creation is one of the kinds, a patch a merge patch of one.
 */
const bodyByKind = (generic: JsonSchema.JsonSchema, kinds: ReadonlyArray<Kind>, which: "create" | "patch"): JsonSchema.JsonSchema => {
  const properties = generic.properties as Record<string, JsonSchema.JsonSchema>
  if (which === "patch") {
    return { ...generic, properties: { ...properties, spec: { ...properties.spec, anyOf: kinds.map((k) => ({ ...specJsonSchema(specSchemaOf(k), true), title: k.kind })) } } }
  }
  return {
    ...generic,
    oneOf: kinds.map((k) => ({ type: "object", title: k.kind, properties: { kind: { const: k.kind }, spec: specJsonSchema(specSchemaOf(k)) }, required: ["kind", "spec"] })),
  }
}

/** The document; with `kinds` (the catalogue), a resource's body says each kind's spec schema. */
export const buildOpenApiDocument = (kinds: ReadonlyArray<Kind> = []) => {
  const routeSchemas = routes.flatMap((r) => [...pathParamsOf(r), r.query, r.body, r.form, r.success.json, ...(r.success.media?.events ?? []).map((e) => e.data)].filter((s) => s !== undefined))
  const { of, components } = compile([ErrorBody, ...new Set(routeSchemas)])
  const errorResponse = (status: ErrorStatus) => ({
    description: `\`${errorCodeOf[status]}\``,
    ...(errorHeaders[status] ? { headers: { [errorHeaders[status].name]: { description: errorHeaders[status].description, schema: errorHeaders[status].schema } } } : {}),
    content: { "application/json": { schema: of(ErrorBody) } },
  })

  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const parameters = [
      ...pathParamsOf(route).flatMap((params) => parametersOf("path", of(params))),
      ...(route.query ? parametersOf("query", of(route.query)) : []),
      ...(route.idempotent ? [idempotencyKeyHeader] : []),
    ]
    const success = route.success
    const content = success.json
      ? { "application/json": { schema: of(success.json) } }
      : success.media ? { [success.media.type]: { schema: mediaSchema(success.media, of) } } : undefined
    paths[route.path] ??= {}
    paths[route.path]![route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      description: accessNote[route.access],
      ...(route.access === "anyone" ? { security: [] } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body ? {
        requestBody: {
          required: true,
          content: Object.fromEntries((route.bodyMedia ?? ["application/json"]).map((type) => [type, {
            schema: route.byKind !== undefined && kinds.length > 0 ? bodyByKind(of(route.body!), kinds, route.byKind) : of(route.body!),
          }])),
        },
      } : {}),
      ...(route.form ? { requestBody: { required: true, content: Object.fromEntries(formMediaTypes.map((type) => [type, { schema: of(route.form!) }])) } } : {}),
      responses: {
        [String(success.status)]: {
          description: success.description,
          ...(success.location ? { headers: { Location: { description: `\`${success.location}\``, schema: { type: "string" } } } } : {}),
          ...(content ? { content } : {}),
        },
        ...Object.fromEntries(errorStatusesOf(route).map((status) => [String(status), errorResponse(status)])),
        ...Object.fromEntries((route.pages ?? []).map((page) => [String(page.status), { description: page.description, content: { "text/html": { schema: { type: "string" } } } }])),
      },
    }
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "Fabric API",
      version: "1",
      description: "Multi-cluster provisioning: every project becomes a namespace in every member cluster. JSON in and out; every non-2xx body is an ErrorBody.",
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "The operator token (FABRIC_ADMIN_TOKEN), or an account API key." },
      },
    },
  }
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>
