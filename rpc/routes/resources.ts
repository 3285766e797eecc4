// /v1/projects/:projectId/resources: a project's resources (docs/api.md). The body is checked here
// for its shape; the spec against its kind's schema by Resources, before anything is written.
import { Hono } from "hono"
import type { Resource } from "../../src/domain/resource.ts"
import { Resources } from "../../src/management/resources.ts"
import { idempotencyOf } from "../http/auth.ts"
import type { Cursors } from "../http/cursor.ts"
import type { FabricEnv } from "../http/env.ts"
import { CreateResourceBody, ListPageQuery, PatchResourceBody, ProjectIdParam, ResourceIdParam } from "../http/schemas.ts"
import { validate } from "../http/validate.ts"
import { watchStream, type WatchOptions } from "../http/watch-stream.ts"

export const resources = (cursors: Cursors, watch: WatchOptions) =>
  new Hono<FabricEnv>()
    .post("/", validate("param", ProjectIdParam), validate("json", CreateResourceBody), async (c) => {
      const { projectId } = c.req.valid("param")
      const body = c.req.valid("json")
      const idempotency = await idempotencyOf(c.req.header("idempotency-key"), body)
      const resource = await c.var.run(Resources.use((r) => r.createResource(c.var.caller, projectId, body, idempotency)))
      return c.json({ resource }, 201)
    })
    .get("/", validate("param", ProjectIdParam), validate("query", ListPageQuery), async (c) => {
      const { projectId } = c.req.valid("param")
      const query = c.req.valid("query")
      // Cursors are signed for the project they page (rpc/http/cursor.ts).
      const cursor = query.cursor === undefined ? undefined : await cursors.open(projectId, query.cursor)
      const page = await c.var.run(Resources.use((r) => r.listResources(c.var.caller, projectId, { limit: Number(query.limit ?? 20), cursor })))
      const nextCursor = page.nextCursor === null ? null : await cursors.seal(projectId, page.nextCursor)
      return c.json({ resources: page.items, nextCursor }, 200)
    })
    .get("/:resourceId", validate("param", ResourceIdParam), async (c) => {
      const { projectId, resourceId } = c.req.valid("param")
      const resource = await c.var.run(Resources.use((r) => r.getResource(c.var.caller, projectId, resourceId)))
      return c.json({ resource }, 200)
    })
    .patch("/:resourceId", validate("param", ResourceIdParam), validate("json", PatchResourceBody), async (c) => {
      const { projectId, resourceId } = c.req.valid("param")
      const resource = await c.var.run(Resources.use((r) => r.patchResource(c.var.caller, projectId, resourceId, c.req.valid("json"))))
      return c.json({ resource }, 200)
    })
    .delete("/:resourceId", validate("param", ResourceIdParam), async (c) => {
      const { projectId, resourceId } = c.req.valid("param")
      const resource = await c.var.run(Resources.use((r) => r.deleteResource(c.var.caller, projectId, resourceId)))
      return c.json({ resource }, 202)
    })
    .get("/:resourceId/watch", validate("param", ResourceIdParam), async (c) => {
      const { projectId, resourceId } = c.req.valid("param")
      const caller = c.var.caller
      const run = c.var.run
      // Authorise (and 404) before the stream starts, so errors keep the JSON error shape.
      const read = () => run(Resources.use((r) => r.getResource(caller, projectId, resourceId)))
      return watchStream(c, watch, {
        key: resourceId, event: "resource", first: await read(), read,
        finished: (r: Resource) => r.phase === "Deleted",
        id: (r) => `${r.generation}:${r.updatedAt}`,
      })
    })
