// GET /openapi.json: the OpenAPI 3.1 document of the API, for clients outside TypeScript. Mounted
// outside /v1, so no token is needed (it describes the API; it holds no data).
import { Effect, Option } from "effect"
import { Hono } from "hono"
import { KindCatalogue } from "../../src/services/kind-catalogue.ts"
import type { FabricEnv } from "../http/env.ts"
import { buildOpenApiDocument, type OpenApiDocument } from "./openapi-document.ts"

// The catalogue says what a resource's body may hold; a runtime without one (a test's) documents the generic body.
const catalogue = Effect.map(Effect.serviceOption(KindCatalogue), Option.match({ onNone: () => [], onSome: (k) => k.kinds }))

export const openapi = () => {
  let document: OpenApiDocument | undefined
  return new Hono<FabricEnv>()
    // Built on first request, then kept: the schemas and the catalogue do not change while the app runs.
    .get("/openapi.json", async (c) => c.json((document ??= buildOpenApiDocument(await c.var.run(catalogue))), 200))
}
