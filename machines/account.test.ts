// The account creation saga: legacy rows, then Fabric's state, then Active; a refusal at either
// step ends it in `rejected` with the tagged failure and runs nothing after it.
import { test } from "uvu"
import * as assert from "uvu/assert"
import { createActor, fromPromise, waitFor } from "xstate"
import { accountMachine, type AccountInput } from "./account.ts"
import type { StepFailure } from "./steps.ts"
import { AccountId } from "../src/domain/account.ts"

type StepName = "writeLegacyAccount" | "writeAccountState"

const input: AccountInput = {
  accountId: AccountId.make(`acc_${"a".repeat(20)}`), name: "Ada", email: "ada@example.com", apiKeyHash: "9f86d08188", at: "2025-01-01T00:00:00.000Z",
}

const deferred = () => {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

const harness = (behaviour: Partial<Record<StepName, (input: AccountInput) => Promise<void>>> = {}) => {
  const calls: Array<{ step: StepName; input: AccountInput }> = []
  const step = (name: StepName) =>
    fromPromise<void, AccountInput>(async ({ input }) => {
      calls.push({ step: name, input })
      await behaviour[name]?.(input)
    })
  const machine = accountMachine.provide({
    actors: { writeLegacyAccount: step("writeLegacyAccount"), writeAccountState: step("writeAccountState") },
  })
  const actor = createActor(machine, { input })
  const settled = () =>
    waitFor(actor, (s) => s.status !== "active" || Object.keys(s.children).length === 0, { timeout: 2_000 })
  return { actor, calls, settled }
}

test("creating.legacy → creating.state → active: both steps once, in order, with the input", async () => {
  const legacy = deferred()
  const state = deferred()
  const { actor, calls, settled } = harness({ writeLegacyAccount: () => legacy.promise, writeAccountState: () => state.promise })
  actor.start()
  assert.equal(actor.getSnapshot().value, { creating: "legacy" })
  assert.equal(calls.map((c) => c.step), ["writeLegacyAccount"])

  legacy.resolve()
  await waitFor(actor, (s) => s.matches({ creating: "state" }), { timeout: 2_000 })
  assert.equal(calls.map((c) => c.step), ["writeLegacyAccount", "writeAccountState"])

  state.resolve()
  const s = await settled()
  assert.is(s.value, "active")
  assert.is(s.status, "active") // not final: an account lives on
  assert.equal(calls, [{ step: "writeLegacyAccount", input }, { step: "writeAccountState", input }])
  assert.equal(s.context, input)
  assert.is(s.context.failure, undefined)
})

// A refusal at either step: the saga ends in `rejected` with that failure, and no step after it runs.
const refusals: ReadonlyArray<{ readonly step: StepName; readonly failure: StepFailure; readonly ran: ReadonlyArray<StepName> }> = [
  { step: "writeLegacyAccount", failure: { _tag: "Conflict", message: "email ada@example.com is taken" }, ran: ["writeLegacyAccount"] },
  { step: "writeAccountState", failure: { _tag: "Unavailable", message: "state store down" }, ran: ["writeLegacyAccount", "writeAccountState"] },
]

for (const { step, failure, ran } of refusals) {
  test(`${step} rejects → rejected with the failure; the steps that ran: ${ran.join(", ")}`, async () => {
    const { actor, calls, settled } = harness({ [step]: () => Promise.reject(failure) })
    actor.start()
    const s = await settled()
    assert.is(s.value, "rejected")
    assert.is(s.status, "done")
    assert.equal(s.context.failure, failure)
    assert.equal(calls.map((c) => c.step), ran)
  })
}

test("an untagged error is recorded as a Defect", async () => {
  const { actor, settled } = harness({ writeLegacyAccount: () => Promise.reject(new Error("socket hang up")) })
  actor.start()
  const s = await settled()
  assert.is(s.value, "rejected")
  assert.equal(s.context.failure, { _tag: "Defect", message: "socket hang up" })
})

test.run()
