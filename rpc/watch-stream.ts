// Server-sent events that follow one entity (a project, an actor): its state at once, then every
// change. A local change notification (Changes) wakes the loop; a poll catches changes applied by
// another replica; comment lines keep proxies from closing an idle stream.
import type { Context } from "hono"
import { streamSSE } from "hono/streaming"
import { Changes } from "../src/services/changes.ts"
import type { FabricEnv } from "./env.ts"

export interface WatchOptions {
  /** Re-read even without a local notification: changes applied by another replica. */
  readonly pollMs: number
  /** Comment lines that keep proxies from closing an idle stream. */
  readonly keepAliveMs: number
  /** Open streams, closed on shutdown (server.close waits for them otherwise). */
  readonly streams: Set<{ close: () => void }>
}

export interface Watched<T> {
  /** The key Changes notifies for this entity. */
  readonly key: string
  readonly event: string
  /** The state read before the stream started (authorisation and 404 happen there, as JSON). */
  readonly first: T
  readonly read: () => Promise<T>
  /** The entity changes no more (a deleted project, a finished actor): the stream ends. */
  readonly finished: (value: T) => boolean
  readonly id?: (value: T) => string
}

export const watchStream = <T>(c: Context<FabricEnv>, watch: WatchOptions, watched: Watched<T>) =>
  streamSSE(c, async (stream) => {
    let wake: () => void = () => {}
    const changed = () => wake()
    const unlisten = await c.var.run(Changes.use((ch) => ch.listen(watched.key, changed)))
    const handle = { close: () => { stream.abort(); changed() } }
    watch.streams.add(handle)
    stream.onAbort(() => changed())
    const send = (value: T) => stream.writeSSE({ event: watched.event, data: JSON.stringify(value), ...(watched.id ? { id: watched.id(value) } : {}) })
    try {
      let last = watched.first
      await send(last)
      let sinceKeepAlive = 0
      while (!stream.aborted && !watched.finished(last)) {
        const started = Date.now()
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, watch.pollMs)
          wake = () => { clearTimeout(timer); resolve() }
        })
        if (stream.aborted) break
        // The client left: the read in flight was interrupted, which is not an error.
        const next = await watched.read().catch((e) => (c.req.raw.signal.aborted || stream.aborted ? undefined : Promise.reject(e)))
        if (next === undefined) break
        if (JSON.stringify(next) !== JSON.stringify(last)) {
          last = next
          await send(next)
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
