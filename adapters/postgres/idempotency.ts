import { Effect } from "effect"
import { IdempotencyKeys, IdempotencyKeyTaken, type IdempotentResponse } from "../../src/services/idempotency-keys.ts"
import { jsonb, pgCodes, query } from "./database.ts"
import { repositoryLayer } from "./repository-layer.ts"

export const findIdempotent = (scope: string, key: string) =>
  query((sql) => sql<{ requestHash: string; status: number; response: unknown }[]>`
    select request_hash as "requestHash", status, response from fabric.idempotency_keys where scope = ${scope} and key = ${key}`).pipe(
    Effect.map((rows): IdempotentResponse | undefined => (rows[0] ? { requestHash: rows[0].requestHash, status: rows[0].status, body: rows[0].response } : undefined)),
  )

export const saveIdempotent = (scope: string, key: string, r: IdempotentResponse) =>
  query((sql) => sql`
    insert into fabric.idempotency_keys (scope, key, request_hash, status, response)
    values (${scope}, ${key}, ${r.requestHash}, ${r.status}, ${jsonb(sql, r.body)})`).pipe(
    Effect.catchIf((e) => e.code === pgCodes.uniqueViolation, () => Effect.fail(new IdempotencyKeyTaken({ scope, key }))),
    Effect.asVoid,
  )

/** IdempotencyKeys on Postgres. */
export const layer = repositoryLayer(IdempotencyKeys, { findIdempotent, saveIdempotent })
