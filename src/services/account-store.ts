import { Context, type Effect } from "effect"
import type { Conflict, Unavailable } from "../domain/errors.ts"
import type { Account } from "../domain/project.ts"

/** Accounts as Fabric keeps them (fabric.accounts), with the hash of each one's API key. */
export class AccountStore extends Context.Service<AccountStore, {
  readonly insertAccount: (account: Account, apiKeyHash: string) => Effect.Effect<void, Conflict | Unavailable>
  readonly getAccount: (id: string) => Effect.Effect<Account | undefined, Unavailable>
  readonly accountIdForKey: (apiKeyHash: string) => Effect.Effect<string | undefined, Unavailable>
}>()("fabric/AccountStore") {}
