// GET /openapi.json: the OpenAPI 3.1 document of the API, for clients outside TypeScript. Mounted
// outside /v1, so no token is needed (it describes the API; it holds no data).
import { Hono } from "hono"
import { buildOpenApiDocument, type OpenApiDocument } from "./openapi-document.ts"

let document: OpenApiDocument | undefined

export const openapi = new Hono()
  // Built on first request, then kept: the schemas do not change while the process runs.
  .get("/openapi.json", (c) => c.json((document ??= buildOpenApiDocument()), 200))
