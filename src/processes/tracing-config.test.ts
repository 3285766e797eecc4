import { test } from "uvu"
import * as assert from "uvu/assert"
import { ConfigError } from "./config-error.ts"
import { parseConfig } from "./config.ts"
import { parseTracingConfig } from "./tracing-config.ts"

test("no endpoint: no tracing (and none in the process configuration)", () => {
  assert.is(parseTracingConfig({}), undefined)
  assert.is(parseConfig({}).tracing, undefined)
  assert.is(parseTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "true" }), undefined)
  assert.is(parseTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_TRACES_EXPORTER: "none" }), undefined)
})

test("the base endpoint gets /v1/traces; the traces endpoint is taken as it is; protobuf, 5 s and no headers by default", () => {
  assert.equal(parseTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }), {
    tracesUrl: "http://collector:4318/v1/traces", protocol: "http/protobuf", serviceName: undefined, exportIntervalMs: 5000, headers: {},
  })
  assert.is(parseTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://c/otlp/" })!.tracesUrl, "https://c/otlp/v1/traces")
  assert.is(parseTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b/x" })!.tracesUrl, "http://b/x")
})

test("service name, JSON protocol, schedule delay and headers (URL-encoded values) are honoured", () => {
  const c = parseTracingConfig({
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SERVICE_NAME: "fabric-eu", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "250", OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20x, tenant=a", OTEL_EXPORTER_OTLP_TRACES_HEADERS: "tenant=b",
  })!
  assert.equal({ ...c }, { tracesUrl: "http://c:4318/v1/traces", protocol: "http/json", serviceName: "fabric-eu", exportIntervalMs: 250, headers: { authorization: "Bearer x", tenant: "b" } })
})

test("a bad setting names itself", () => {
  for (const [env, name] of [
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }, "OTEL_EXPORTER_OTLP_ENDPOINT"],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, "OTEL_EXPORTER_OTLP_PROTOCOL"],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_BSP_SCHEDULE_DELAY: "soon" }, "OTEL_BSP_SCHEDULE_DELAY"],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_EXPORTER_OTLP_HEADERS: "novalue" }, "OTEL_EXPORTER_OTLP_HEADERS"],
  ] as const) {
    assert.throws(() => parseConfig(env), (e: unknown) => e instanceof ConfigError && e.message.includes(name), name)
  }
})

test.run()
