// `fabric daemon --metrics-port`: the listener serves the process's registry over a real socket.
import { Effect, ManagedRuntime } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { parseExposition, valueOf } from "../../tests/support/exposition.ts"
import { reconciles } from "../daemon/daemon-metrics.ts"
import { Metrics } from "../services/metrics.ts"
import { serveMetrics } from "./metrics-listener.ts"

test("GET /metrics on the listener answers the daemon's counters; other paths are 404", async () => {
  const runtime = ManagedRuntime.make(Metrics.layer)
  try {
    await runtime.runPromise(Effect.scoped(Effect.gen(function* () {
      yield* Metrics.use((m) => m.increment(reconciles, { cluster: "x" }, 3))
      const { port } = yield* serveMetrics(runtime, { port: 0, host: "127.0.0.1" })
      const scraped = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/metrics`))
      assert.is(scraped.status, 200)
      assert.match(scraped.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/)
      assert.is(valueOf(parseExposition(yield* Effect.promise(() => scraped.text())), "fabric_daemon_reconciles_total", { cluster: "x" }), 3)
      assert.is((yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/v1/accounts`))).status, 404)
    })))
  } finally {
    await runtime.dispose()
  }
})

test.run()
