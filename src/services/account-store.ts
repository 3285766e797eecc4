import { Context, type Effect } from "effect"
import type { Conflict, Unavailable } from "../domain/errors.ts"
import type { Account, AccountId } from "../domain/account.ts"

/** Accounts as Fabric keeps them (fabric.accounts), with the hash of each one's API key. */
export class AccountStore extends Context.Service<AccountStore, {
  readonly insertAccount: (account: Account, apiKeyHash: string) => Effect.Effect<void, Conflict | Unavailable>
  readonly getAccount: (id: AccountId) => Effect.Effect<Account | undefined, Unavailable>
  readonly accountIdForKey: (apiKeyHash: string) => Effect.Effect<AccountId | undefined, Unavailable>
}>()("fabric/AccountStore") {}
