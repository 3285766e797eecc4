// Server-sent events that follow one entity (a project, an actor): its state at once, then every
// change. A change notification (Changes: from any replica on Postgres) wakes the loop; a slow
// re-read catches one that was lost; comment lines keep proxies from closing an idle stream.
import type { Context } from "hono"
import { streamSSE } from "hono/streaming"
import { Changes } from "../../src/services/changes.ts"
import type { FabricEnv } from "./env.ts"

export interface WatchOptions {
  /** Re-read this often even without a notification (a fallback: one may be lost). */
  readonly pollMs: number
  /** Comment lines that keep proxies from closing an idle stream. */
  readonly keepAliveMs: number
  /** Open streams, closed on shutdown (server.close waits for them otherwise). */
  readonly streams: Set<{ close: () => void }>
}

/**
 * The last event of a stream the server closes because it shuts down (docs/api.md): the client
 * should connect again (another replica, or this one restarted) after `retry` milliseconds.
 */
export const shutdownEvent = { event: "shutdown", data: JSON.stringify({ reason: "Fabric is shutting down; connect again" }), retry: 1000 }

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

/** A wake-up that is never lost: one that comes while nobody waits makes the next wait return at once. */
const wakeUp = () => {
  let pending = false
  let waiting: (() => void) | undefined
  return {
    wake: () => {
      pending = true
      waiting?.()
    },
    /** True when woken, false when `ms` passed first. */
    wait: (ms: number) =>
      new Promise<boolean>((resolve) => {
        if (pending) {
          pending = false
          return resolve(true)
        }
        const timer = setTimeout(() => { waiting = undefined; resolve(false) }, ms)
        waiting = () => { clearTimeout(timer); waiting = undefined; pending = false; resolve(true) }
      }),
  }
}

export const watchStream = <T>(c: Context<FabricEnv>, watch: WatchOptions, watched: Watched<T>) =>
  streamSSE(c, async (stream) => {
    const changed = wakeUp()
    const unlisten = await c.var.run(Changes.use((ch) => ch.listen(watched.key, changed.wake)))
    // Shutdown ends the loop below, which says so in a final event and then ends the stream.
    let stopping = false
    const handle = { close: () => { stopping = true; changed.wake() } }
    watch.streams.add(handle)
    stream.onAbort(() => changed.wake())
    const send = (value: T) => stream.writeSSE({ event: watched.event, data: JSON.stringify(value), ...(watched.id ? { id: watched.id(value) } : {}) })
    try {
      let last = watched.first
      await send(last)
      // A change between the first read and the listen above was not notified: read once more.
      changed.wake()
      let readAt = Date.now()
      let wroteAt = readAt
      while (!stream.aborted && !watched.finished(last)) {
        const now = Date.now()
        const woken = await changed.wait(Math.max(0, Math.min(readAt + watch.pollMs, wroteAt + watch.keepAliveMs) - now))
        if (stream.aborted) break
        if (stopping) {
          await stream.writeSSE(shutdownEvent)
          break
        }
        if (woken || Date.now() >= readAt + watch.pollMs) {
          readAt = Date.now()
          // The client left: the read in flight was interrupted, which is not an error.
          const next = await watched.read().catch((e) => (c.req.raw.signal.aborted || stream.aborted ? undefined : Promise.reject(e)))
          if (next === undefined) break
          if (JSON.stringify(next) !== JSON.stringify(last)) {
            last = next
            await send(next)
            wroteAt = Date.now()
            continue
          }
        }
        if (Date.now() >= wroteAt + watch.keepAliveMs) {
          await stream.write(": keep-alive\n\n")
          wroteAt = Date.now()
        }
      }
    } finally {
      unlisten()
      watch.streams.delete(handle)
    }
  })
