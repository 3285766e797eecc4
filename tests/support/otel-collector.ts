// A real OpenTelemetry Collector for tests: OTLP/HTTP in on a free loopback port, the contrib file
// exporter out, one OTLP-JSON `TracesData` per line. The binary comes from
// deploy/infra/build-otelcol.sh (cached under ~/.cache/fabric-infra; `infra.sh up` builds it, and
// the first use here builds it when it is missing, which takes minutes).
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "./ports.ts"

const root = new URL("../..", import.meta.url).pathname

export const otelcolVersion = process.env.FABRIC_OTELCOL_VERSION ?? "v0.161.0"
const cache = process.env.FABRIC_INFRA_CACHE ?? join(process.env.HOME ?? "/root", ".cache/fabric-infra")
export const otelcolBinary = join(cache, "bin", `otelcol-${otelcolVersion}`, "otelcol")

/** The collector binary, built first when it is not in the cache. */
export const ensureCollector = (): string => {
  if (existsSync(otelcolBinary)) return otelcolBinary
  console.error(`otel-collector: ${otelcolBinary} is missing; building it with deploy/infra/build-otelcol.sh (several minutes, once)`)
  const built = spawnSync("nice", ["-n", "10", "bash", "deploy/infra/build-otelcol.sh", otelcolVersion], { cwd: root, stdio: "inherit" })
  if (built.status !== 0 || !existsSync(otelcolBinary)) throw new Error(`deploy/infra/build-otelcol.sh ${otelcolVersion} failed (exit ${built.status})`)
  return otelcolBinary
}

/** One span as the file exporter writes it (OTLP JSON: hex ids, nanosecond strings). */
export interface ExportedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly kind?: number
  readonly attributes: Record<string, unknown>
  /** service.name of the process that sent it, and its other resource attributes. */
  readonly service: string
  readonly resource: Record<string, unknown>
  readonly links: ReadonlyArray<{ traceId: string; spanId: string }>
}

interface AnyValue { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
const valueOf = (v: AnyValue | undefined): unknown =>
  v === undefined ? undefined : v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.boolValue ?? v.doubleValue)
const attributesOf = (list: ReadonlyArray<{ key: string; value: AnyValue }> | undefined) =>
  Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]))

/** Every span in an exporter file (one JSON document per line). */
export const parseSpans = (text: string): ExportedSpan[] => {
  const spans: ExportedSpan[] = []
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue
    const data = JSON.parse(line) as { resourceSpans?: Array<{ resource?: { attributes?: [] }; scopeSpans?: Array<{ spans?: Array<Record<string, any>> }> }> }
    for (const rs of data.resourceSpans ?? []) {
      const resource = attributesOf(rs.resource?.attributes)
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({
            traceId: s.traceId, spanId: s.spanId, name: s.name, kind: s.kind,
            ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
            attributes: attributesOf(s.attributes),
            service: String(resource["service.name"]), resource,
            links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({ traceId: l.traceId, spanId: l.spanId })),
          })
        }
      }
    }
  }
  return spans
}

export interface Collector {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT (OTLP/HTTP; /v1/traces is appended by the SDK convention). */
  readonly endpoint: string
  readonly file: string
  readonly spans: () => ExportedSpan[]
  readonly output: () => string
  readonly child: ChildProcess
  readonly stop: () => Promise<void>
}

export const startCollector = async (timeoutMs = 30_000): Promise<Collector> => {
  const binary = ensureCollector()
  const dir = mkdtempSync(join(tmpdir(), "fabric-otelcol-"))
  const file = join(dir, "traces.jsonl")
  const port = await freePort()
  const config = join(dir, "config.yaml")
  writeFileSync(config, [
    "receivers:",
    "  otlp:",
    "    protocols:",
    "      http:",
    `        endpoint: 127.0.0.1:${port}`,
    "exporters:",
    "  file:",
    `    path: ${file}`,
    "    format: json",
    "    flush_interval: 100ms",
    "service:",
    "  telemetry:",
    "    logs:",
    "      level: warn",
    "    metrics:",
    "      level: none",   // no self-metrics listener on :8888
    "  pipelines:",
    "    traces:",
    "      receivers: [otlp]",
    "      exporters: [file]",
    "",
  ].join("\n"))
  const child = spawn(binary, ["--config", config], { stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const endpoint = `http://127.0.0.1:${port}`
  // Ready when the receiver answers (an empty export is accepted).
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`otelcol exited (${child.exitCode}) before it was ready:\n${output}`)
    const ok = await fetch(`${endpoint}/v1/traces`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
      .then((r) => r.ok, () => false)
    if (ok) break
    if (Date.now() > deadline) {
      child.kill("SIGKILL")
      throw new Error(`otelcol did not answer on ${endpoint} within ${timeoutMs} ms:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  return { endpoint, file, child, output: () => output, stop, spans: () => (existsSync(file) ? parseSpans(readFileSync(file, "utf8")) : []) }
}
