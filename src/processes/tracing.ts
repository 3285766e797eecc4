// Where a process's spans go: with OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) set,
// every span (Effect.withSpan, Effect.fn) is exported over OTLP/HTTP, protobuf by default, and
// messages carry W3C trace context (src/services/trace-context.ts) so one trace follows a change
// through every process. Unset: this layer is empty and nothing changes.
//
// The exporter is effect's own (effect/observability OtlpTracer: the OTLP exporter that
// @effect/opentelemetry carried in effect 3; its 4.x release keeps only the bridges to the
// OpenTelemetry JS SDK), over fetch: no dependency beyond effect.
import { Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { type OtlpExporter, OtlpSerialization, OtlpTracer } from "effect/observability"
import { PropagateTraces } from "../services/trace-context.ts"
import type { TracingConfig } from "./tracing-config.ts"

export type ProcessKind = "fabric-rpc" | "fabric-daemon" | "fabric-dev"

export const tracingLayer = (config: TracingConfig | undefined, defaultServiceName: ProcessKind, attributes: Record<string, unknown> = {}) => {
  if (config === undefined) return Layer.empty as Layer.Layer<OtlpExporter.Flusher>
  const exporter = OtlpTracer.layer({
    url: config.tracesUrl,
    resource: { serviceName: config.serviceName ?? defaultServiceName, attributes },
    headers: config.headers,
    exportInterval: config.exportIntervalMs,
  }).pipe(
    Layer.provide(config.protocol === "http/json" ? OtlpSerialization.layerJson : OtlpSerialization.layerProtobuf),
    Layer.provide(FetchHttpClient.layer),
  )
  return Layer.merge(exporter, Layer.succeed(PropagateTraces, true))
}
