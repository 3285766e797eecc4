// GET /openapi.json: served without a token, lists every route of docs/docs/api.md's table and every route
// the app serves, and declares the same input rules the validator applies.
import { readFileSync } from "node:fs"
import { ManagedRuntime, Schema } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { Metrics } from "../../src/services/metrics.ts"
import { makeApp } from "../app.ts"
import { buildOpenApiDocument } from "./openapi-document.ts"
import { AccountIdParam, CreateAccountBody, CreateProjectBody } from "../http/schemas.ts"

// The contract is the repository's own docs/api.md.
const apiMdPath = new URL("../../docs/api.md", import.meta.url).pathname

interface TableRoute { readonly method: string; readonly path: string; readonly query: ReadonlyArray<string> }

/** The rows of docs/api.md's `| method and path |` table: `GET /healthz, /readyz` is two routes. */
const routesOfApiMd = (markdown: string): ReadonlyArray<TableRoute> => {
  const lines = markdown.split("\n")
  const header = lines.findIndex((l) => l.startsWith("| method and path |"))
  if (header < 0) throw new Error(`${apiMdPath} has no "| method and path |" table`)
  const rows = lines.slice(header + 2).filter((_, i, all) => all.slice(0, i + 1).every((l) => l.startsWith("|")))
  return rows.flatMap((row) => {
    const cell = row.split("|")[1]!.trim()
    const [method, ...rest] = cell.split(" ")
    return rest.join(" ").split(",").map((raw) => {
      const [path, query] = raw.trim().split("?")
      return {
        method: method!.toLowerCase(),
        path: path!.replace(/:(\w+)/g, "{$1}"),
        query: query ? query.split("&") : [],
      }
    })
  })
}

// Serving the document runs no management effect: the runtime needs only what every request
// uses (the request metrics), not a database.
const runtime = ManagedRuntime.make(Metrics.layer)
const app = makeApp({ runtime: runtime as never, operatorToken: "unused-operator-token", watch: { pollMs: 1_000, keepAliveMs: 1_000, streams: new Set() } })
const document = buildOpenApiDocument()
type Operation = { parameters?: Array<{ name: string; in: string; required: boolean }>; requestBody?: { content: Record<string, { schema: Json }> } }
type Json = Record<string, unknown>
const operation = (method: string, path: string) => (document.paths[path] as Record<string, Operation> | undefined)?.[method]

test("GET /openapi.json answers 200 without a token, with the document the builder makes", async () => {
  const response = await app.request("/openapi.json")
  assert.is(response.status, 200)
  assert.match(response.headers.get("content-type") ?? "", /application\/json/)
  const served = await response.json()
  assert.is(served.openapi, "3.1.0")
  assert.equal(served, JSON.parse(JSON.stringify(document)))
})

test("every route of docs/docs/api.md's table is in the document, with its method, path and query parameters", () => {
  const table = routesOfApiMd(readFileSync(apiMdPath, "utf8"))
  assert.ok(table.some((r) => r.method === "post" && r.path === "/v1/accounts"), `no POST /v1/accounts parsed from ${apiMdPath}`)
  for (const route of table) {
    const op = operation(route.method, route.path)
    assert.ok(op, `${route.method.toUpperCase()} ${route.path} is missing from the document`)
    for (const name of route.query) {
      assert.ok(op.parameters?.some((p) => p.in === "query" && p.name === name), `${route.method.toUpperCase()} ${route.path}: no query parameter ${name}`)
    }
    for (const [, name] of route.path.matchAll(/\{(\w+)\}/g)) {
      assert.ok(op.parameters?.some((p) => p.in === "path" && p.name === name && p.required), `${route.path}: path parameter ${name} not declared`)
    }
  }
})

// The visualiser's own pages, login and data under /debug/ belong to the UI (rpc/routes/debug.ts),
// not to the API; GET /debug itself is in docs/api.md and in the document.
const isVisualiserInternal = (path: string) => path.startsWith("/debug/")

test("every route the app serves is in the document (except the visualiser's internals)", () => {
  const served = app.routes
    .filter((r) => r.method !== "ALL" && !isVisualiserInternal(r.path))
    .map((r) => ({ method: r.method.toLowerCase(), path: (r.path.replace(/\/$/, "") || "/").replace(/:(\w+)/g, "{$1}") }))
  assert.ok(served.length > 0)
  for (const route of served) assert.ok(operation(route.method, route.path), `${route.method.toUpperCase()} ${route.path} is served but not documented`)
})

test("operator-only and public routes say so in their security and error responses", () => {
  const listClusters = operation("get", "/v1/clusters") as Json & { responses: Json }
  assert.ok("403" in listClusters.responses && "401" in listClusters.responses)
  const healthz = operation("get", "/healthz") as Json & { responses: Json }
  assert.equal(healthz.security, [])
  assert.not.ok("401" in healthz.responses)
  assert.equal(document.components.securitySchemes.bearer, { type: "http", scheme: "bearer", description: document.components.securitySchemes.bearer.description })
})

/** A JSON Schema check of the keywords the generated request schemas use (enough to compare verdicts). */
const accepts = (schema: Json, value: unknown): boolean => {
  if (Array.isArray(schema.allOf) && !schema.allOf.every((s: Json) => accepts(s, value))) return false
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s: Json) => accepts(s, value))) return false
  if (schema.type === "object") {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return false
    const record = value as Record<string, unknown>
    if (((schema.required ?? []) as string[]).some((k) => !(k in record))) return false
    return Object.entries((schema.properties ?? {}) as Record<string, Json>).every(([k, s]) => !(k in record) || accepts(s, record[k]))
  }
  if (schema.type === "string") {
    if (typeof value !== "string") return false
    // JSON Schema's strings are Unicode text, which a lone surrogate is not: no portable pattern can
    // name one (rpc/text.ts), and the validator refuses it.
    if (!value.isWellFormed()) return false
    const length = [...value].length
    if (typeof schema.minLength === "number" && length < schema.minLength) return false
    if (typeof schema.maxLength === "number" && length > schema.maxLength) return false
  }
  if (typeof schema.pattern === "string" && typeof value === "string" && !new RegExp(schema.pattern, "u").test(value)) return false
  return true
}

/** The verdict of the route validator (rpc/http/validate.ts goes through the same Standard Schema). */
const validatorAccepts = async (schema: Schema.Decoder<unknown>, value: unknown) =>
  !(await Schema.toStandardSchemaV1(schema)["~standard"].validate(value)).issues

const names = [
  "a", "My project", "x".repeat(63), "x".repeat(64), "", " leading", "trailing ", "tab\tinside", "a\u0000b", "line\nbreak", "ünïcödé", 42,
  // Counted in code points on both sides; C1, DEL, bidi controls and lone surrogates refused on both.
  "\u{1F600}".repeat(40), "\u{1F600}".repeat(63), "\u{1F600}".repeat(64), "a\u0085b", "a\u007fb", "a\u202eb", "a\u2066b", "a\ud800b", "a\udc00", "\u{1F600}\u200d\u{1F600}",
]
const emails = ["ops@acme.test", "a@b.co", "not-an-email", "a@b", "sp ace@x.io", `${"e".repeat(250)}@x.io`, "", "a\u0001b@x.io", "a\u0000b@probe.test", `${"\u{1F600}".repeat(248)}@x.io`]

test("POST /v1/accounts: the request body declares name 1-63 characters and rejects what the validator rejects", async () => {
  const schema = operation("post", "/v1/accounts")!.requestBody!.content["application/json"]!.schema
  const name = (schema.properties as Record<string, Json>).name!
  assert.is(name.maxLength, 63)
  assert.is(name.minLength, 1)
  assert.equal([...(schema.required as string[])].sort(), ["email", "name"])
  for (const n of names) {
    for (const email of emails) {
      const body = { name: n, email }
      assert.is(accepts(schema, body), await validatorAccepts(CreateAccountBody, body), `document and validator disagree on ${JSON.stringify(body)}`)
    }
  }
})

test("POST /v1/accounts/{accountId}/projects: the body and the accountId parameter reject what the validator rejects", async () => {
  const op = operation("post", "/v1/accounts/{accountId}/projects")!
  const body = op.requestBody!.content["application/json"]!.schema
  for (const n of names) assert.is(accepts(body, { name: n }), await validatorAccepts(CreateProjectBody, { name: n }), `name ${JSON.stringify(n)}`)
  const accountId = (op.parameters!.find((p) => p.name === "accountId") as unknown as { schema: Json }).schema
  for (const id of ["acc_abcdefghijklmnopqrst", "acc_ABCDEFGHIJKLMNOPQRST", "acc_short", "prj_abcdefghijklmnopqrst", "acc_abcdefghijklmnopqrs1"]) {
    assert.is(accepts(accountId, id), await validatorAccepts(AccountIdParam, { accountId: id }), `accountId ${id}`)
  }
})

test("every operation lists 400, 405 with its Allow header and 503 with Retry-After; /debug/login lists 403 and 429 with Retry-After", () => {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(item as Record<string, { responses: Record<string, { headers?: Json }> }>)) {
      assert.ok(op.responses["405"]?.headers?.Allow, `${method.toUpperCase()} ${path}: no 405 with Allow`)
      // Every route answers 503 while the process stops, and 400 to a body it cannot read.
      assert.ok(op.responses["503"]?.headers?.["Retry-After"], `${method.toUpperCase()} ${path}: no 503 with Retry-After`)
      assert.ok(op.responses["400"], `${method.toUpperCase()} ${path}: no 400`)
    }
  }
  const loginOp = operation("post", "/debug/login") as unknown as { responses: Record<string, { headers?: Json }> }
  assert.ok(loginOp.responses["403"] && loginOp.responses["400"])
  assert.ok(loginOp.responses["429"]?.headers?.["Retry-After"])
})

test("every pattern in the document compiles outside JavaScript too: no surrogate escapes (Rust's regex, schemathesis's validator, drops those)", () => {
  const patterns = [...JSON.stringify(document).matchAll(/"pattern":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string)
  assert.ok(patterns.length > 5)
  for (const pattern of patterns) assert.not.match(pattern, /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/, pattern)
})

test.after(() => runtime.dispose())

test.run()
