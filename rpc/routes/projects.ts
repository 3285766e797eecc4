import { Hono } from "hono"
import type { Project } from "../../src/domain/project.ts"
import { Projects } from "../../src/management/projects.ts"
import type { FabricEnv } from "../http/env.ts"
import { ProjectIdParam } from "../http/schemas.ts"
import { validate } from "../http/validate.ts"
import { watchStream, type WatchOptions } from "../http/watch-stream.ts"

export const projects = (watch: WatchOptions) =>
  new Hono<FabricEnv>()
    .get("/:projectId", validate("param", ProjectIdParam), async (c) => {
      const { projectId } = c.req.valid("param")
      const project = await c.var.run(Projects.use((p) => p.getProject(c.var.caller, projectId)))
      return c.json({ project }, 200)
    })
    .delete("/:projectId", validate("param", ProjectIdParam), async (c) => {
      const { projectId } = c.req.valid("param")
      const project = await c.var.run(Projects.use((p) => p.deleteProject(c.var.caller, projectId)))
      return c.json({ project }, 202)
    })
    .get("/:projectId/watch", validate("param", ProjectIdParam), async (c) => {
      const { projectId } = c.req.valid("param")
      const caller = c.var.caller
      const run = c.var.run
      // Authorise (and 404) before the stream starts, so errors keep the JSON error shape.
      const read = () => run(Projects.use((p) => p.getProject(caller, projectId)))
      return watchStream(c, watch, {
        key: projectId, event: "project", first: await read(), read,
        finished: (p: Project) => p.phase === "Deleted",
        id: (p) => `${p.generation}:${p.updatedAt}`,
      })
    })

