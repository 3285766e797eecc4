// Draining on shutdown (SIGTERM): from the moment the process begins to stop, /readyz and every
// request that arrives answer 503 with Retry-After (nothing was done, so the client may send it
// again, to another replica), and every response, those of requests already in flight included,
// closes its connection, so no client sends one more request down a socket about to go away.
import { createMiddleware } from "hono/factory"
import type { FabricEnv } from "./env.ts"
import { errorResponse } from "./errors.ts"

export interface DrainSwitch {
  readonly draining: boolean
  /** Turned on once, by the process that stops; never off again. */
  readonly begin: () => void
}

export const makeDrainSwitch = (): DrainSwitch => {
  let draining = false
  return {
    get draining() {
      return draining
    },
    begin: () => void (draining = true),
  }
}

/** Seconds a refused client should wait before sending again (another replica is ready by then). */
export const drainRetryAfterSeconds = 1

export const refuseWhileDraining = (drain: DrainSwitch) =>
  createMiddleware<FabricEnv>(async (c, next) => {
    if (drain.draining) {
      c.header("retry-after", String(drainRetryAfterSeconds))
      c.header("connection", "close")
      return errorResponse(c, 503, "unavailable", "Fabric is shutting down; send the request again")
    }
    await next()
    if (drain.draining) c.header("connection", "close")
  })
