// The Effects behind the account machine's invoked steps.
import { Effect } from "effect"
import { AccountStore } from "../src/services/account-store.ts"
import { LegacyDemeter } from "../src/services/legacy-demeter.ts"
import { accountMachine, type AccountInput } from "./account.ts"
import type { HostedMachine } from "./host.ts"

const writeLegacyAccount = Effect.fn("AccountSteps.writeLegacyAccount")(function* (input: AccountInput) {
  yield* (yield* LegacyDemeter).createAccount({
    id: input.accountId, name: input.name, email: input.email, projectQuota: input.projectQuota ?? 10, resourceQuota: input.resourceQuota ?? 50, createdAt: new Date(input.at),
  })
})

const writeAccountState = Effect.fn("AccountSteps.writeAccountState")(function* (input: AccountInput) {
  yield* (yield* AccountStore).insertAccount({ id: input.accountId, name: input.name, email: input.email, createdAt: input.at }, input.apiKeyHash)
})

/** What the account machine's steps need. */
export type AccountSteps = LegacyDemeter | AccountStore

export const hostedAccount: HostedMachine<AccountSteps, AccountInput> = {
  kind: "account",
  machine: accountMachine,
  steps: { writeLegacyAccount, writeAccountState },
  project: () => Effect.void,
  isDone: (snapshot) => snapshot.status === "done" || snapshot.matches("active"),
}
