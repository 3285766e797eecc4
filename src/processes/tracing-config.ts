// Trace export settings, from the OpenTelemetry SDK's standard variables (parsed with the rest of
// the configuration, src/processes/config.ts). Unset endpoint: no export, no trace headers.
import { ConfigError } from "./config-error.ts"

export interface TracingConfig {
  /** Where spans are POSTed (OTLP/HTTP). */
  readonly tracesUrl: string
  readonly protocol: "http/protobuf" | "http/json"
  /** OTEL_SERVICE_NAME; each process has its own default (fabric-rpc, fabric-daemon, fabric-dev). */
  readonly serviceName: string | undefined
  readonly exportIntervalMs: number
  readonly headers: Readonly<Record<string, string>>
}

type Env = Readonly<Record<string, string | undefined>>

const url = (name: string, raw: string): URL => {
  try {
    const parsed = new URL(raw)
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error()
    return parsed
  } catch {
    throw new ConfigError(`${name}=${raw} is not an http(s) URL`)
  }
}

/** `k1=v1,k2=v2`, values URL-encoded (the OTel spec's format for OTEL_EXPORTER_OTLP_HEADERS). */
const headerList = (name: string, raw: string | undefined): Record<string, string> => {
  const headers: Record<string, string> = {}
  for (const pair of (raw ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const at = pair.indexOf("=")
    if (at <= 0) throw new ConfigError(`${name}: "${pair}" is not key=value`)
    headers[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim())
  }
  return headers
}

export const parseTracingConfig = (env: Env): TracingConfig | undefined => {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || undefined
  if (base === undefined && traces === undefined) return undefined
  if (env.OTEL_SDK_DISABLED === "true" || env.OTEL_TRACES_EXPORTER === "none") return undefined
  // The signal-specific variable is the full URL; the base one gets /v1/traces appended.
  const tracesUrl = traces !== undefined ? url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces).href
    : (() => {
        const u = url("OTEL_EXPORTER_OTLP_ENDPOINT", base!)
        u.pathname = `${u.pathname.replace(/\/$/, "")}/v1/traces`
        return u.href
      })()
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || "http/protobuf"
  if (protocol !== "http/protobuf" && protocol !== "http/json") {
    throw new ConfigError(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol}: Fabric exports over http/protobuf or http/json (not grpc)`)
  }
  const delay = env.OTEL_BSP_SCHEDULE_DELAY
  const exportIntervalMs = delay === undefined || delay === "" ? 5000 : Number(delay)
  if (!Number.isInteger(exportIntervalMs) || exportIntervalMs < 1 || exportIntervalMs > 600_000) {
    throw new ConfigError(`OTEL_BSP_SCHEDULE_DELAY=${delay} is not a whole number of milliseconds from 1 to 600000`)
  }
  return {
    tracesUrl,
    protocol,
    serviceName: env.OTEL_SERVICE_NAME || undefined,
    exportIntervalMs,
    headers: { ...headerList("OTEL_EXPORTER_OTLP_HEADERS", env.OTEL_EXPORTER_OTLP_HEADERS), ...headerList("OTEL_EXPORTER_OTLP_TRACES_HEADERS", env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) },
  }
}
