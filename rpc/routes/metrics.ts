// GET /metrics (anyone, docs/api.md): the Prometheus text exposition of this process's metrics. It
// takes a runtime of its own, so a process without the API (`fabric daemon`) serves it too.
import type { ManagedRuntime } from "effect"
import { Hono } from "hono"
import { Metrics } from "../../src/services/metrics.ts"
import { expositionContentType } from "../../src/services/prometheus-text.ts"

export const metrics = (runtime: ManagedRuntime.ManagedRuntime<Metrics, unknown>) =>
  new Hono().get("/", async (c) => {
    const text = await runtime.runPromise(Metrics.use((m) => m.render()), { signal: c.req.raw.signal })
    return c.body(text, 200, { "content-type": expositionContentType })
  })
