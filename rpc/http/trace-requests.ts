// The HTTP request's span (kind server, named `<METHOD> <route pattern>`): the root of the trace
// of everything the request causes, or a child of the caller's span when the request carries a
// W3C `traceparent` header. Every Effect the request runs (c.get("run")) runs under it, so the
// outbox row it writes carries its context on. Only while the process exports spans.
import { Effect, Exit, type ManagedRuntime } from "effect"
import type { MiddlewareHandler } from "hono"
import { decodeTraceparent, endSpan, PropagateTraces, traceparentHeader } from "../../src/services/trace-context.ts"
import type { FabricEnv } from "./env.ts"
import { routePatternOf } from "./observe-requests.ts"

export const traceRequests = (runtime: ManagedRuntime.ManagedRuntime<never, unknown>): MiddlewareHandler<FabricEnv> => {
  let enabled: boolean | undefined
  return async (c, next) => {
    enabled ??= await runtime.runPromise(Effect.service(PropagateTraces))
    if (!enabled) return next()
    const route = routePatternOf(c)
    const parent = decodeTraceparent(c.req.header(traceparentHeader))
    const span = await runtime.runPromise(Effect.makeSpan(`${c.req.method} ${route}`, {
      kind: "server",
      ...(parent === undefined ? { root: true } : { parent }),
      attributes: { "http.request.method": c.req.method, "http.route": route, "url.path": c.req.path, "fabric.request_id": c.get("requestId") },
    }))
    const run = c.get("run")
    c.set("run", (effect) => run(Effect.withParentSpan(effect, span)))
    try {
      await next()
    } finally {
      const status = c.res.status
      span.attribute("http.response.status_code", status)
      await runtime.runPromise(endSpan(span, status >= 500 ? Exit.fail(new Error(`HTTP ${status}`)) : Exit.void)).catch(() => undefined)
    }
  }
}
