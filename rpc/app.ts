// The Hono app of docs/api.md. Routes are chained so `AppType` carries every route's types for the
// typed client (rpc/client.ts).
import { Effect, Exit, Cause, type ManagedRuntime } from "effect"
import { Hono, type Context } from "hono"
import { bodyLimit } from "hono/body-limit"
import { requestId } from "hono/request-id"
import type { Metrics } from "../src/services/metrics.ts"
import { RequestId, withRequestId } from "../src/services/request-id.ts"
import { Readiness } from "../src/management/readiness.ts"
import { authenticate } from "./http/auth.ts"
import { makeCursors } from "./http/cursor.ts"
import { makeDrainSwitch, refuseWhileDraining, type DrainSwitch } from "./http/drain.ts"
import type { ApiServices, FabricEnv } from "./http/env.ts"
import { ClientClosedRequest, errorResponse, onError } from "./http/errors.ts"
import { methodNotAllowed } from "./http/method-not-allowed.ts"
import { observeRequests } from "./http/observe-requests.ts"
import { traceRequests } from "./http/trace-requests.ts"
import { accounts } from "./routes/accounts.ts"
import { clusters } from "./routes/clusters.ts"
import { debug } from "./routes/debug.ts"
import { kinds } from "./routes/kinds.ts"
import { metrics } from "./routes/metrics.ts"
import { projects } from "./routes/projects.ts"
import { resources } from "./routes/resources.ts"
import { strictJsonBody } from "./http/strict-json.ts"
import type { WatchOptions } from "./http/watch-stream.ts"
import { openapi } from "./routes/openapi.ts"

export interface AppOptions {
  readonly runtime: ManagedRuntime.ManagedRuntime<ApiServices | Metrics, unknown>
  readonly operatorToken: string
  readonly watch: WatchOptions
  /** Turned on when the process begins to stop (rpc/http/drain.ts); never on when absent. */
  readonly drain?: DrainSwitch
  /** Optional extra routes mounted by the process (metrics, debug UI). */
  readonly maxBodyBytes?: number
  /** The client's address (the runtime's connection info), for throttling failed /debug logins. */
  readonly clientAddress?: (c: Context) => string | undefined
}

export const makeApp = (options: AppOptions) => {
  const cursors = makeCursors(options.operatorToken)
  const v1 = new Hono<FabricEnv>()
    .use(authenticate(options.operatorToken))
    .route("/accounts", accounts(cursors))
    .route("/projects", projects(options.watch))
    .route("/projects/:projectId/resources", resources(cursors, options.watch))
    .route("/clusters", clusters)
    .route("/kinds", kinds)

  const root = new Hono<FabricEnv>()
  const app = root
    .use(requestId({ headerName: "x-request-id", limitLength: 128 }))
    .use(observeRequests(options.runtime))
    .use(refuseWhileDraining(options.drain ?? makeDrainSwitch()))
    // Reads the routes when the first 404 comes, when they are all registered.
    .use(methodNotAllowed(root))
    .use(async (c, next) => {
      const id = c.get("requestId")
      c.set("run", async (effect) => {
        const exit = await options.runtime.runPromiseExit(Effect.provideService(effect, RequestId, id).pipe(withRequestId(id)), { signal: c.req.raw.signal })
        if (Exit.isSuccess(exit)) return exit.value
        if (c.req.raw.signal.aborted && Cause.hasInterruptsOnly(exit.cause)) throw new ClientClosedRequest()
        const error = Cause.findErrorOption(exit.cause)
        throw error._tag === "Some" ? error.value : new Error(Cause.pretty(exit.cause))
      })
      await next()
    })
    .use(traceRequests(options.runtime))
    .use(bodyLimit({
      maxSize: options.maxBodyBytes ?? 64 * 1024,
      onError: (c) => errorResponse(c, 400, "invalid_request", `request body exceeds ${options.maxBodyBytes ?? 64 * 1024} bytes`),
    }))
    .use(strictJsonBody)
    .get("/healthz", (c) => c.json({ status: "ok" }, 200))
    .get("/readyz", async (c) => {
      const exit = await options.runtime.runPromiseExit(Readiness.use((r) => r.ready))
      return Exit.isSuccess(exit) ? c.json({ status: "ready" as const, ...exit.value }, 200) : errorResponse(c, 503, "unavailable", "database not reachable")
    })
    .route("/", openapi())
    .route("/metrics", metrics(options.runtime))
    .route("/v1", v1)
    .route("/debug", debug({ operatorToken: options.operatorToken, watch: options.watch, clientAddress: options.clientAddress }))

  app.notFound((c) => errorResponse(c, 404, "not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`))
  app.onError(onError)
  return app
}

export type AppType = ReturnType<typeof makeApp>
