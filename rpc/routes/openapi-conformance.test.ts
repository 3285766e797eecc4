// Answers the fuzzer (tests/e2e/real/fuzz.real.test.ts) found the document did not describe, checked
// here with app.request against GET /openapi.json's own words: GET /debug's 401 login page, and the
// watch stream's events (`project`, and `shutdown` when the server stops).
import { Effect, Layer, ManagedRuntime, Schema } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { Project, type Project as ProjectType } from "../../src/domain/project.ts"
import { Authentication } from "../../src/management/authentication.ts"
import { Projects } from "../../src/management/projects.ts"
import { Changes } from "../../src/services/changes.ts"
import { Metrics } from "../../src/services/metrics.ts"
import { makeApp } from "../app.ts"
import { ShutdownEventData } from "../http/response-schemas.ts"
import { buildOpenApiDocument } from "./openapi-document.ts"

const token = "conformance-operator-token-0123456789"
const project = (phase: ProjectType["phase"]): ProjectType => Schema.decodeUnknownSync(Project)({
  id: "prj_aaaaaaaaaaaaaaaaaaaa", accountId: "acc_aaaaaaaaaaaaaaaaaaaa", name: "P", namespace: "prj-p-abcdef",
  phase, generation: 1, createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z",
  clusters: { a: { phase: "Ready", observedGeneration: 1, updatedAt: "2026-01-01T00:00:00.000Z" } },
})
let current = project("Deleted")
const authentication = { authenticate: () => Effect.succeed({ kind: "operator" }), isDebugSessionRevoked: () => Effect.succeed(false) }
const projects = { getProject: () => Effect.succeed(current) }
const runtime = ManagedRuntime.make(Layer.mergeAll(
  Metrics.layer, Changes.layer, Layer.succeed(Authentication, authentication as never), Layer.succeed(Projects, projects as never),
))
const streams = new Set<{ close: () => void }>()
const app = makeApp({ runtime: runtime as never, operatorToken: token, watch: { pollMs: 60_000, keepAliveMs: 60_000, streams } })
const document = buildOpenApiDocument() as unknown as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Json }> }> }>>
}
type Json = Record<string, any>

test("GET /debug without a token or session answers 401 with the login page, as the document lists", async () => {
  const response = await app.request("/debug")
  assert.is(response.status, 401)
  assert.match(response.headers.get("content-type") ?? "", /text\/html/)
  const documented = document.paths["/debug"]!.get!.responses["401"]
  assert.ok(documented?.content?.["text/html"], `responses: ${Object.keys(document.paths["/debug"]!.get!.responses)}`)
})

/** Server-sent events as a client reads them: `{event, data, id?, retry?}` per block. */
const eventsOf = (text: string) =>
  text.split("\n\n").filter((block) => block.split("\n").some((l) => l.startsWith("data:"))).map((block) => {
    const event: Record<string, string | number> = {}
    for (const line of block.split("\n")) {
      const [field, ...rest] = line.split(":")
      const value = rest.join(":").replace(/^ /, "")
      if (field === "retry") event.retry = Number(value)
      else if (field === "event" || field === "data" || field === "id") event[field] = value
    }
    return event
  })

const schemaOfComponent: Record<string, Schema.Decoder<unknown>> = { Project, ShutdownEventData }

/** The one branch of the document's event schema the event matches; its data decodes with the branch's contentSchema. */
const conforms = (event: Record<string, string | number>) => {
  const schema = document.paths["/v1/projects/{projectId}/watch"]!.get!.responses["200"]!.content!["text/event-stream"]!.schema
  const matching = (schema.oneOf as Json[]).filter((branch) =>
    branch.properties.event.const === event.event
    && (branch.required as string[]).every((k) => k in event)
    && Object.keys(event).every((k) => k in branch.properties))
  assert.is(matching.length, 1, `event ${JSON.stringify(event)} matches ${matching.length} branches`)
  const branch = matching[0]!
  if ("retry" in event) assert.ok(Number.isInteger(event.retry) && (event.retry as number) >= 0)
  assert.is(branch.properties.data.contentMediaType, "application/json")
  const component = String(branch.properties.data.contentSchema.$ref).split("/").at(-1)!
  Schema.decodeUnknownSync(schemaOfComponent[component]!)(JSON.parse(String(event.data)))
}

test("the watch stream's `project` event is the document's event schema: data is a Project, id is set", async () => {
  current = project("Deleted")
  const response = await app.request(`/v1/projects/${current.id}/watch`, { headers: { authorization: `Bearer ${token}` } })
  assert.is(response.status, 200)
  const events = eventsOf(await response.text())
  assert.is(events.length, 1)
  assert.is(events[0]!.event, "project")
  conforms(events[0]!)
})

test("the `shutdown` event that ends a stream when the server stops is the document's event schema too", async () => {
  current = project("Provisioning")
  const response = await app.request(`/v1/projects/${current.id}/watch`, { headers: { authorization: `Bearer ${token}` } })
  assert.is(response.status, 200)
  const reader = response.body!.getReader()
  let text = ""
  // The first event, then the server stops (what fabric's shutdown does to every open stream).
  while (!text.includes("\n\n")) text += new TextDecoder().decode((await reader.read()).value)
  for (const stream of streams) stream.close()
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value)
  const events = eventsOf(text)
  assert.equal(events.map((e) => e.event), ["project", "shutdown"])
  for (const event of events) conforms(event)
  assert.is(events[1]!.retry, 1000)
})

test.after(() => runtime.dispose())

test.run()
