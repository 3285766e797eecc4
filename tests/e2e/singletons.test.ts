// Who does the work that runs once (src/management/singletons.ts), as an operator reads it: the
// embedded default is one process, so it holds every singleton's lease, and both /readyz and
// /metrics say so. (Several replicas on Postgres and Kafka: tests/e2e/real/replicas.real.test.ts.)
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { singletonLeases } from "../../src/management/singletons.ts"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"
import { waitFor } from "../support/wait-for.ts"

const singletons = suite<{ fabric: TestFabric }>("singletons of the embedded default")

singletons.before(async (ctx) => { ctx.fabric = await startFabric() })
singletons.after(async (ctx) => ctx.fabric.stop())

singletons("/readyz names this process as the holder of every singleton's lease, and /metrics has fabric_lease_held 1 for each", async ({ fabric }) => {
  const ready = await waitFor("every lease held", async () => {
    const r = await fabric.request("GET", "/readyz", { token: null })
    return r.status === 200 && Object.keys(r.json.leases).length === singletonLeases.length ? r.json : undefined
  })
  assert.is(ready.status, "ready")
  assert.type(ready.replica, "string")
  assert.equal(ready.leases, Object.fromEntries(singletonLeases.map((lease) => [lease, ready.replica])))
  const metrics = await fabric.request("GET", "/metrics", { token: null })
  for (const lease of singletonLeases) assert.match(metrics.text, `fabric_lease_held{lease="${lease}"} 1\n`)
})

singletons.run()
