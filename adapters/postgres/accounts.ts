import { Effect } from "effect"
import { Conflict } from "../../src/domain/errors.ts"
import { AccountId, type Account } from "../../src/domain/account.ts"
import { AccountStore } from "../../src/services/account-store.ts"
import { pgCodes, query } from "./database.ts"
import { repositoryLayer } from "./repository-layer.ts"

interface AccountRow { id: string; name: string; email: string; createdAt: Date }
const toAccount = (r: AccountRow): Account => ({ id: AccountId.make(r.id), name: r.name, email: r.email, createdAt: r.createdAt.toISOString() })

export const insertAccount = (account: Account, apiKeyHash: string) =>
  query((sql) => sql`
    insert into fabric.accounts (id, name, email, api_key_hash, created_at)
    values (${account.id}, ${account.name}, ${account.email}, ${apiKeyHash}, ${new Date(account.createdAt)})
    on conflict (id) do nothing`).pipe(
    Effect.catchIf((e) => e.code === pgCodes.uniqueViolation, () => Effect.fail(new Conflict({ message: "api key collision" }))),
    Effect.asVoid,
  )

export const getAccount = (id: AccountId) =>
  query((sql) => sql<AccountRow[]>`select id, name, email, created_at as "createdAt" from fabric.accounts where id = ${id}`).pipe(
    Effect.map((rows) => (rows[0] ? toAccount(rows[0]) : undefined)),
  )

export const accountIdForKey = (apiKeyHash: string) =>
  query((sql) => sql<{ id: string }[]>`select id from fabric.accounts where api_key_hash = ${apiKeyHash}`).pipe(
    Effect.map((rows) => (rows[0] ? AccountId.make(rows[0].id) : undefined)),
  )

/** AccountStore on Postgres (a real server or embedded PGlite: the same SQL). */
export const layer = repositoryLayer(AccountStore, { insertAccount, getAccount, accountIdForKey })
