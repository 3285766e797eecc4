// An account's creation saga: the legacy Demeter rows, then Fabric's own state, then Active.
// Each step is idempotent (keyed by the account id). With the legacy schema on the same server
// (the default) the host runs the whole saga in one transaction, so a refusal (duplicate email)
// rolls everything back; a snapshot is only ever stored once the saga has settled.
import { assign, setup } from "xstate"
import type { AccountId } from "../src/domain/account.ts"
import { declareStep, toStepFailure, type StepFailure } from "./steps.ts"

export interface AccountInput {
  readonly accountId: AccountId
  readonly name: string
  readonly email: string
  readonly apiKeyHash: string
  /** Absent in snapshots written before quotas were configurable: the legacy default (10). */
  readonly projectQuota?: number
  readonly at: string
}

export interface AccountContext extends AccountInput {
  readonly failure?: StepFailure
}

export const accountMachine = setup({
  types: {
    context: {} as AccountContext,
    input: {} as AccountInput,
  },
  actors: {
    writeLegacyAccount: declareStep<void, AccountInput>("writeLegacyAccount"),
    writeAccountState: declareStep<void, AccountInput>("writeAccountState"),
  },
  actions: {
    recordFailure: assign((_, failure: StepFailure) => ({ failure })),
  },
}).createMachine({
  id: "account",
  context: ({ input }) => ({ ...input }),
  initial: "creating",
  states: {
    creating: {
      initial: "legacy",
      states: {
        legacy: {
          invoke: {
            id: "writeLegacyAccount",
            src: "writeLegacyAccount",
            input: ({ context }) => context,
            onDone: { target: "state" },
            onError: { target: "#account.rejected", actions: { type: "recordFailure", params: ({ event }) => toStepFailure(event.error) } },
          },
        },
        state: {
          invoke: {
            id: "writeAccountState",
            src: "writeAccountState",
            input: ({ context }) => context,
            onDone: { target: "#account.active" },
            onError: { target: "#account.rejected", actions: { type: "recordFailure", params: ({ event }) => toStepFailure(event.error) } },
          },
        },
      },
    },
    rejected: { type: "final" },
    active: {},
  },
})
