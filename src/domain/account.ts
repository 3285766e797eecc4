import { Schema } from "effect"
import { idPatterns } from "./ids.ts"
import { Timestamp } from "./timestamp.ts"

export const AccountId = Schema.String.check(
  Schema.isPattern(idPatterns.account, { message: "accountId must look like acc_ followed by 20 characters" }),
).pipe(Schema.brand("AccountId"))
export type AccountId = typeof AccountId.Type

/** The account as the API shows it (docs/api.md) and as the account store keeps it. */
export const Account = Schema.Struct({
  id: AccountId,
  name: Schema.String,
  email: Schema.String,
  createdAt: Timestamp,
}).annotate({ identifier: "Account" })
export type Account = typeof Account.Type

/** Who is calling: the operator, or the holder of one account's API key. */
export type Caller = { readonly kind: "operator" } | { readonly kind: "account"; readonly accountId: AccountId }

export const canAccessAccount = (caller: Caller, accountId: AccountId): boolean =>
  caller.kind === "operator" || caller.accountId === accountId
