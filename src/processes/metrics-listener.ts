// A listener serving only GET /metrics, for `fabric daemon --metrics-port`: the daemon has no API
// server of its own, and its reconcile and drift counters live in its own process.
import type { ManagedRuntime } from "effect"
import { Hono } from "hono"
import { metrics } from "../../rpc/routes/metrics.ts"
import type { Metrics } from "../services/metrics.ts"
import { serveHttp } from "./http.ts"

export const serveMetrics = (runtime: ManagedRuntime.ManagedRuntime<Metrics, unknown>, options: { readonly port: number; readonly host: string }) =>
  serveHttp(new Hono().route("/metrics", metrics(runtime)).fetch, { port: options.port, host: options.host, streams: new Set(), drainMs: 1_000 })
