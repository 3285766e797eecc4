// FABRIC_STATELY_INSPECT: off by default; when on, an actor the host runs reaches a Stately
// inspector client through the bridge server, without the account's API key hash.
import { freePort } from "../../tests/support/ports.ts"
import { Effect, Layer } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { fromPromise, setup } from "xstate"
import { makeHost } from "../../machines/host.ts"
import { parseConfig, ConfigError } from "./config.ts"
import { ActorInspection } from "../services/actor-inspection.ts"
import { ActorSnapshots } from "../services/actor-snapshots.ts"
import { Changes } from "../services/changes.ts"
import { Metrics } from "../services/metrics.ts"
import { Transactions } from "../services/transactions.ts"
import { statelyInspectLayer } from "./stately-inspect.ts"

// The host with a store that has nothing and keeps nothing: enough to create one actor.
const hostServices = Layer.mergeAll(
  Layer.succeed(ActorSnapshots, { loadSnapshot: () => Effect.succeed(undefined), saveSnapshot: () => Effect.succeed(1) } as never),
  Layer.succeed(Transactions, { transactionally: (effect) => effect, atCommit: (write) => write, undoable: (effect) => effect }),
  Changes.layer,
  Metrics.layer,
)

// One invoked step, as the real machines have: its input (the context) carries the hash too.
const machine = setup({
  types: {} as { context: { accountId: string; apiKeyHash: string }; input: { accountId: string; apiKeyHash: string } },
  actors: { record: fromPromise(async () => {}) },
}).createMachine({
  id: "inspected",
  context: ({ input }) => input,
  initial: "recording",
  states: { recording: { invoke: { id: "record", src: "record", onDone: "active" } }, active: {} },
})
const host = makeHost({ kind: "account", machine, steps: { record: () => Effect.void }, project: () => Effect.void, isDone: () => false })
const createActor = host.create("acc_inspected", { accountId: "acc_inspected", apiKeyHash: "secret-hash" }).pipe(Effect.provide(hostServices))

test("off unless FABRIC_STATELY_INSPECT=1, and off provides no inspector", () => {
  assert.is(parseConfig({}).statelyInspect, false)
  assert.is(parseConfig({ FABRIC_STATELY_INSPECT: "0" }).statelyInspect, false)
  assert.is(parseConfig({ FABRIC_STATELY_INSPECT: "1" }).statelyInspect, true)
  assert.throws(() => parseConfig({ FABRIC_STATELY_INSPECT: "yes" }), (e: unknown) => e instanceof ConfigError)
  const inspector = Effect.gen(function* () { return yield* ActorInspection })
  assert.is(Effect.runSync(Effect.provide(inspector, statelyInspectLayer(false))), undefined)
})

test("on: the host's actor and its step reach an inspector client, without the API key hash", async () => {
  const port = await freePort()
  const received: Array<{ type: string; name?: string; snapshot?: { value?: unknown; context?: Record<string, unknown> } }> = []
  const settled = () => received.some((e) => e.type === "@xstate.snapshot" && e.snapshot?.value === "active")
  await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
    const inspection = yield* Layer.build(statelyInspectLayer(true, port))
    yield* Effect.provideContext(createActor, inspection)
    // A browser-like client of the bridge: the server replays what it has relayed so far.
    yield* Effect.promise(() => new Promise<void>((resolve, reject) => {
      const client = new WebSocket(`ws://localhost:${port}`)
      // A failure deadline only, far above what it takes (a loaded machine is slow).
      const deadline = setTimeout(() => { client.close(); reject(new Error(`the actor did not settle in 60 s; got ${JSON.stringify(received)}`)) }, 60_000)
      client.onmessage = (message) => {
        received.push(JSON.parse(String(message.data)))
        if (settled()) { clearTimeout(deadline); client.close(); resolve() }
      }
    }))
  })))
  const actors = received.filter((e) => e.type === "@xstate.actor")
  assert.equal(actors.map((a) => a.name), ["inspected", "record"])
  assert.is(actors[0]!.snapshot?.context?.accountId, "acc_inspected")
  assert.not.ok(JSON.stringify(received).includes("secret-hash"), "the API key hash reached the inspector")
})

test.run()
