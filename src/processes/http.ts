// Serves the Hono app on Node (@hono/node-server); closing the scope closes open SSE streams
// first, since server.close() would otherwise wait for them forever.
import { serve, type ServerType } from "@hono/node-server"
import { getConnInfo } from "@hono/node-server/conninfo"
import { Effect } from "effect"
import type { Context } from "hono"
import type { Server } from "node:http"

export interface Served {
  readonly port: number
}

export const serveHttp = (fetch: (request: Request) => Response | Promise<Response>, options: { port: number; host: string; streams: Set<{ close: () => void }> }) =>
  Effect.acquireRelease(
    Effect.callback<{ server: ServerType; port: number }>((resume) => {
      const server = serve({ fetch, port: options.port, hostname: options.host }, (info) => resume(Effect.succeed({ server, port: info.port })))
      server.once("error", (error) => resume(Effect.die(error)))
    }),
    ({ server }) =>
      Effect.callback<void>((resume) => {
        for (const stream of options.streams) stream.close()
        server.close(() => resume(Effect.void))
        ;(server as Server).closeAllConnections?.()
      }),
  ).pipe(Effect.map(({ port }): Served => ({ port })))

/** The peer address of a request served here; undefined for one that came another way (app.request in tests). */
export const clientAddress = (c: Context): string | undefined => {
  try {
    return getConnInfo(c).remote.address
  } catch {
    return undefined
  }
}
