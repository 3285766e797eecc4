// Serves the Hono app on Node (@hono/node-server). Closing the scope drains it: the app answers
// whatever arrives from then on with 503 and Retry-After (rpc/http/drain.ts; /readyz too, so a load
// balancer takes the process out), SSE streams end with a final event, and requests in flight
// get `drainMs` to finish. Only then does the listener close and the last connections go, and
// only then do the scopes opened before it (consumers, database) close. The listener stays open
// during the drain on purpose: a request sent meanwhile gets a clean 503 it can retry, where a
// closed listener would refuse or reset it, and a probe could not see /readyz turn 503.
import { serve, type ServerType } from "@hono/node-server"
import { getConnInfo } from "@hono/node-server/conninfo"
import { Effect } from "effect"
import type { Context } from "hono"
import type { Server } from "node:http"
import type { DrainSwitch } from "../../rpc/http/drain.ts"

export interface Served {
  readonly port: number
}

export interface ServeOptions {
  readonly port: number
  readonly host: string
  /** Open SSE streams: each ends with a final event when the server stops. */
  readonly streams: Set<{ close: () => void }>
  /** Turned on as the server stops, so the app refuses new requests; none for a bare listener. */
  readonly drain?: DrainSwitch
  /** How long requests in flight may take to finish once the server stops (FABRIC_SHUTDOWN_DRAIN_SECONDS). */
  readonly drainMs: number
}

/** Counts requests whose response has not closed yet. */
const countInFlight = (server: Server) => {
  let inFlight = 0
  let idle: (() => void) | undefined
  server.on("request", (_request, response) => {
    inFlight++
    response.once("close", () => {
      inFlight--
      if (inFlight === 0) idle?.()
    })
  })
  return {
    get count() {
      return inFlight
    },
    /** Runs `f` once nothing is in flight (at once if nothing is). */
    whenIdle: (f: () => void) => (inFlight === 0 ? f() : void (idle = f)),
  }
}

const stop = (server: Server, inFlight: ReturnType<typeof countInFlight>, options: ServeOptions) =>
  Effect.callback<void>((resume) => {
    options.drain?.begin()
    for (const stream of options.streams) stream.close()
    const close = () => {
      clearTimeout(cut)
      server.close(() => resume(Effect.void))
      // idle keep-alive connections, and after the deadline the requests still running
      server.closeAllConnections()
    }
    const cut = setTimeout(() => {
      console.error(JSON.stringify({ level: "warn", msg: `${inFlight.count} request(s) still in flight after ${options.drainMs}ms of draining; closing their connections` }))
      close()
    }, options.drainMs)
    inFlight.whenIdle(close)
  })

export const serveHttp = (fetch: (request: Request) => Response | Promise<Response>, options: ServeOptions) =>
  Effect.acquireRelease(
    Effect.callback<{ server: ServerType; port: number; inFlight: ReturnType<typeof countInFlight> }>((resume) => {
      const server = serve({ fetch, port: options.port, hostname: options.host }, (info) => resume(Effect.succeed({ server, port: info.port, inFlight })))
      const inFlight = countInFlight(server as Server)
      server.once("error", (error) => resume(Effect.die(error)))
    }),
    ({ server, inFlight }) => stop(server as Server, inFlight, options),
  ).pipe(Effect.map(({ port }): Served => ({ port })))

/** The peer address of a request served here; undefined for one that came another way (app.request in tests). */
export const clientAddress = (c: Context): string | undefined => {
  try {
    return getConnInfo(c).remote.address
  } catch {
    return undefined
  }
}
