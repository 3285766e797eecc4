// Every answered request, once: counted and timed by method, route PATTERN and status (the raw
// path holds project and account ids, which must never become metric labels), and logged as
// one line carrying the request id.
import { Effect, type ManagedRuntime } from "effect"
import type { Context, MiddlewareHandler } from "hono"
import { matchedRoutes } from "hono/route"
import { counter, histogram, latencyBuckets, Metrics } from "../../src/services/metrics.ts"
import { withRequestId } from "../../src/services/request-id.ts"
import type { FabricEnv } from "./env.ts"

const httpRequests = counter("fabric_http_requests_total", "HTTP requests answered, by method, route pattern and status", ["method", "route", "status"])

const httpRequestDuration = histogram(
  "fabric_http_request_duration_seconds",
  "Time until the response headers (an SSE stream counts until it starts), by method, route pattern and status",
  ["method", "route", "status"],
  latencyBuckets,
)

const knownMethods = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])

/**
 * The pattern of the handler the request matched (`/v1/projects/:projectId`), or "unmatched".
 * Middleware is registered for every method ("ALL"), handlers for one, so the last route with a
 * method of its own is the handler, even when middleware (auth) answered before it ran.
 */
export const routePatternOf = (c: Context): string =>
  matchedRoutes(c).filter((route) => route.method !== "ALL").at(-1)?.path ?? "unmatched"

export const observeRequests = (runtime: ManagedRuntime.ManagedRuntime<Metrics, unknown>): MiddlewareHandler<FabricEnv> =>
  async (c, next) => {
    const started = performance.now()
    await next()
    const seconds = (performance.now() - started) / 1000
    // Clients choose the method: an unknown one must not mint a new label value.
    const method = knownMethods.has(c.req.method) ? c.req.method : "OTHER"
    const labels = { method, route: routePatternOf(c), status: String(c.res.status) }
    const record = Effect.gen(function* () {
      const metrics = yield* Metrics
      yield* metrics.increment(httpRequests, labels)
      yield* metrics.observe(httpRequestDuration, labels, seconds)
      yield* Effect.logInfo("request answered", { ...labels, path: c.req.path, durationMs: Math.round(seconds * 1000) })
    }).pipe(withRequestId(c.get("requestId")))
    // Recording must never fail the answer (the runtime may be shutting down).
    await runtime.runPromise(record).catch(() => undefined)
  }
