// Accounts: creating one (its legacy rows, state, default project and outbox row in ONE
// transaction through the actor host) and reading one.
import { Clock, Context, Effect, Layer } from "effect"
import { hostedAccount, type AccountSteps } from "../../machines/account-steps.ts"
import { makeHost } from "../../machines/host.ts"
import { NotFound, type DomainError, type Unavailable } from "../domain/errors.ts"
import { canAccessAccount, type Account, type AccountId, type Caller } from "../domain/account.ts"
import type { Project } from "../domain/project.ts"
import { AccountStore } from "../services/account-store.ts"
import { Ids } from "../services/ids.ts"
import { ManagementSettings } from "../services/settings.ts"
import { sha256Hex } from "./credentials.ts"
import { IdempotentRequests, type Idempotency } from "./idempotent-requests.ts"
import { layerContext } from "./layer-context.ts"
import { newProject, type NewProjectServices } from "./new-project.ts"

export interface CreatedAccount {
  readonly account: Account
  readonly project: Project
  /** Shown once; null when an Idempotency-Key replay answers (the key is never stored). */
  readonly apiKey: string | null
}

export class Accounts extends Context.Service<Accounts, {
  /** A new account with its API key and its default project (named like the account). */
  readonly createAccount: (input: { name: string; email: string }, idempotency: Idempotency | undefined) => Effect.Effect<CreatedAccount, DomainError>
  /** Another account's answers NotFound, exactly like a missing one (no existence leak). */
  readonly getAccount: (caller: Caller, accountId: AccountId) => Effect.Effect<Account, NotFound | Unavailable>
}>()("fabric/Accounts") {
  static readonly layer = Layer.effect(Accounts, Effect.gen(function* () {
    const provide = yield* layerContext<AccountSteps | NewProjectServices>()
    const store = yield* AccountStore
    const ids = yield* Ids
    const idempotent = yield* IdempotentRequests
    const accounts = makeHost(hostedAccount)

    const createAccount = Effect.fn("Accounts.createAccount")(function* (input: { name: string; email: string }, idempotency: Idempotency | undefined) {
      const apiKey = yield* ids.apiKey
      const apiKeyHash = yield* Effect.promise(() => sha256Hex(apiKey))
      return yield* idempotent.once(
        "operator:POST /v1/accounts", idempotency,
        Effect.gen(function* () {
          const accountId = yield* ids.accountId
          const at = new Date(yield* Clock.currentTimeMillis).toISOString()
          const { projectQuota, resourceQuota } = yield* ManagementSettings
          yield* accounts.create(accountId, { accountId, name: input.name, email: input.email, apiKeyHash, projectQuota, resourceQuota, at })
          const project = yield* newProject(accountId, input.name)
          const account: Account = { id: accountId, name: input.name, email: input.email, createdAt: at }
          return { account, project, apiKey } as CreatedAccount
        }),
        (r) => ({ account: r.account, project: r.project }),
        (body) => ({ ...(body as Omit<CreatedAccount, "apiKey">), apiKey: null }),
      )
    }, provide)

    const getAccount = Effect.fn("Accounts.getAccount")(function* (caller: Caller, accountId: AccountId) {
      if (!canAccessAccount(caller, accountId)) return yield* new NotFound({ resource: "account", id: accountId })
      const account = yield* store.getAccount(accountId)
      if (account === undefined) return yield* new NotFound({ resource: "account", id: accountId })
      return account
    })

    return Accounts.of({ createAccount, getAccount })
  }))
}
