// The Effects behind the account machine's invoked steps.
import { Effect } from "effect"
import { LegacyDemeter } from "../src/services/legacy-demeter.ts"
import { StateStore } from "../src/services/state-store.ts"
import { accountMachine, type AccountInput } from "./account.ts"
import type { HostedMachine } from "./host.ts"

const writeLegacyAccount = Effect.fn("AccountSteps.writeLegacyAccount")(function* (input: AccountInput) {
  yield* (yield* LegacyDemeter).createAccount({
    id: input.accountId, name: input.name, email: input.email, projectQuota: input.projectQuota ?? 10, createdAt: new Date(input.at),
  })
})

const writeAccountState = Effect.fn("AccountSteps.writeAccountState")(function* (input: AccountInput) {
  yield* (yield* StateStore).insertAccount({ id: input.accountId, name: input.name, email: input.email, createdAt: input.at }, input.apiKeyHash)
})

export const hostedAccount: HostedMachine<LegacyDemeter | StateStore, AccountInput> = {
  kind: "account",
  machine: accountMachine,
  steps: { writeLegacyAccount, writeAccountState },
  project: () => Effect.void,
  isDone: (snapshot) => snapshot.status === "done" || snapshot.matches("active"),
}
