// An account's creation saga: the legacy Demeter rows, then Fabric's own state, then Active.
// Each step is idempotent (keyed by the account id). With the legacy schema on the same server
// (the default) the host runs the whole saga in one transaction, so a refusal (duplicate email)
// rolls everything back; a snapshot is only ever stored once the saga has settled.
import { assign, setup } from "xstate"
import type { AccountId } from "../src/domain/account.ts"
import { declareStep, refusedTo, type StepFailure } from "./steps.ts"

export interface AccountInput {
  readonly accountId: AccountId
  readonly name: string
  readonly email: string
  readonly apiKeyHash: string
  /** Absent in snapshots written before quotas were configurable: the legacy default (10). */
  readonly projectQuota?: number
  /** Absent in snapshots written before resources: the legacy default (50). */
  readonly resourceQuota?: number
  readonly at: string
}

export interface AccountContext extends AccountInput {
  readonly failure?: StepFailure
}

const account = setup({
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
})

/** One step of the saga: it runs with the account, then `next`; a refusal ends the saga in `rejected`. */
const sagaStep = (step: "writeLegacyAccount" | "writeAccountState", next: string) =>
  account.createStateConfig({
    invoke: {
      id: step,
      src: step,
      input: ({ context }) => context,
      onDone: { target: next },
      onError: refusedTo("#account.rejected"),
    },
  })

export const accountMachine = account.createMachine({
  id: "account",
  context: ({ input }) => ({ ...input }),
  initial: "creating",
  states: {
    creating: {
      initial: "legacy",
      states: {
        legacy: sagaStep("writeLegacyAccount", "state"),
        state: sagaStep("writeAccountState", "#account.active"),
      },
    },
    rejected: { type: "final" },
    active: {},
  },
})
