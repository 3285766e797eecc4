import { Hono } from "hono"
import { streamSSE } from "hono/streaming"
import type { Project } from "../../src/domain/project.ts"
import { Changes } from "../../src/services/changes.ts"
import { Management } from "../../src/management/management.ts"
import type { FabricEnv } from "../env.ts"
import { ProjectIdParam } from "../schemas.ts"
import { validate } from "../validate.ts"

export interface WatchOptions {
  /** Re-read even without a local notification: changes applied by another replica. */
  readonly pollMs: number
  /** Comment lines that keep proxies from closing an idle stream. */
  readonly keepAliveMs: number
  /** Open streams, closed on shutdown (server.close waits for them otherwise). */
  readonly streams: Set<{ close: () => void }>
}

export const projects = (watch: WatchOptions) =>
  new Hono<FabricEnv>()
    .get("/:projectId", validate("param", ProjectIdParam), async (c) => {
      const { projectId } = c.req.valid("param")
      const project = await c.var.run(Management.use((m) => m.getProject(c.var.caller, projectId)))
      return c.json({ project }, 200)
    })
    .delete("/:projectId", validate("param", ProjectIdParam), async (c) => {
      const { projectId } = c.req.valid("param")
      const project = await c.var.run(Management.use((m) => m.deleteProject(c.var.caller, projectId)))
      return c.json({ project }, 202)
    })
    .get("/:projectId/watch", validate("param", ProjectIdParam), async (c) => {
      const { projectId } = c.req.valid("param")
      const caller = c.var.caller
      const run = c.var.run
      // Authorise (and 404) before the stream starts, so errors keep the JSON error shape.
      let last: Project = await run(Management.use((m) => m.getProject(caller, projectId)))
      return streamSSE(c, async (stream) => {
        let wake: () => void = () => {}
        const changed = () => wake()
        const unlisten = await run(Changes.use((ch) => ch.listen(projectId, changed)))
        const handle = { close: () => { stream.abort(); changed() } }
        watch.streams.add(handle)
        stream.onAbort(() => changed())
        try {
          await stream.writeSSE({ event: "project", data: JSON.stringify(last), id: `${last.generation}:${last.updatedAt}` })
          let sinceKeepAlive = 0
          while (!stream.aborted && last.phase !== "Deleted") {
            const started = Date.now()
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, watch.pollMs)
              wake = () => { clearTimeout(timer); resolve() }
            })
            if (stream.aborted) break
            const next: Project = await run(Management.use((m) => m.getProject(caller, projectId)))
            if (JSON.stringify(next) !== JSON.stringify(last)) {
              last = next
              await stream.writeSSE({ event: "project", data: JSON.stringify(next), id: `${next.generation}:${next.updatedAt}` })
              sinceKeepAlive = 0
            } else if ((sinceKeepAlive += Date.now() - started) >= watch.keepAliveMs) {
              await stream.write(": keep-alive\n\n")
              sinceKeepAlive = 0
            }
          }
        } finally {
          unlisten()
          watch.streams.delete(handle)
        }
      })
    })

