// What only the simulated cluster has: the knobs tests turn (outages, latency, deletion time).
// The behaviour it shares with a real apiserver is in tests/contract/cluster.ts.
import { Cause, Effect, Exit } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { layer, SimulatedClusterState } from "../../adapters/embedded/cluster.ts"
import { Cluster, ClusterUnavailable, type ManagedNamespace } from "../../src/services/cluster.ts"

const ns: ManagedNamespace = { name: "prj-shop-abc123", projectId: "prj_shop", accountId: "acc_1", generation: 1 }

const runWith = <A, E>(state: SimulatedClusterState, use: (c: Cluster["Service"]) => Effect.Effect<A, E>) =>
  Effect.runPromiseExit(
    Effect.gen(function* () {
      return yield* use(yield* Cluster)
    }).pipe(Effect.provide(layer({ id: "sim", state }))),
  )

const unavailableReason = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const error = Cause.findErrorOption(exit.cause)
  return error._tag === "Some" && error.value instanceof ClusterUnavailable ? error.value.reason : undefined
}

test("failNext(n) fails exactly the next n calls with ClusterUnavailable, without side effects", async () => {
  const state = new SimulatedClusterState()
  state.failNext(2)
  assert.match(unavailableReason(await runWith(state, (c) => c.ensureNamespace(ns))) ?? "", /injected/)
  assert.match(unavailableReason(await runWith(state, (c) => c.ensureNamespace(ns))) ?? "", /injected/)
  assert.is(state.lookup(ns.name), undefined, "a failed call created nothing")
  assert.equal(await runWith(state, (c) => c.ensureNamespace(ns)), Exit.succeed("created"))
})

test("while failing is on every call fails; turning it off restores service", async () => {
  const state = new SimulatedClusterState()
  state.failing = true
  for (let i = 0; i < 3; i++) assert.ok(unavailableReason(await runWith(state, (c) => c.listManaged())))
  state.failing = false
  assert.equal(await runWith(state, (c) => c.listManaged()), Exit.succeed([]))
})

test("latencyMs delays every call", async () => {
  const state = new SimulatedClusterState({ latencyMs: 40 })
  const started = performance.now()
  await runWith(state, (c) => c.listManaged())
  assert.ok(performance.now() - started >= 35, "took the injected latency")
})

test("a deleted namespace is Terminating for terminatingMs, then gone", async () => {
  const state = new SimulatedClusterState({ terminatingMs: 60 })
  await runWith(state, (c) => c.ensureNamespace(ns))
  assert.equal(await runWith(state, (c) => c.deleteNamespace(ns)), Exit.succeed("deleting"))
  assert.ok(state.lookup(ns.name)?.goneAt !== undefined, "Terminating")
  await new Promise((r) => setTimeout(r, 80))
  assert.is(state.lookup(ns.name), undefined, "gone")
  assert.is(state.namespaces.size, 0)
})

test.run()
