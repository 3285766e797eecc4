import { createMiddleware } from "hono/factory"
import { Forbidden, InvalidRequest } from "../../src/domain/errors.ts"
import { sha256Hex } from "../../src/management/credentials.ts"
import { Authentication } from "../../src/management/authentication.ts"
import type { Idempotency } from "../../src/management/idempotent-requests.ts"
import type { FabricEnv } from "./env.ts"

/** Resolves the bearer token to a caller (operator or one account); 401 when missing or bad. */
export const authenticate = (operatorToken: string) =>
  createMiddleware<FabricEnv>(async (c, next) => {
    const caller = await c.var.run(Authentication.use((a) => a.authenticate(c.req.header("authorization"), operatorToken)))
    c.set("caller", caller)
    await next()
  })

/** Operator-only endpoints: an account key is authenticated but not allowed (403). */
export const operatorOnly = createMiddleware<FabricEnv>(async (c, next) => {
  if (c.var.caller.kind !== "operator") throw new Forbidden({ message: "this endpoint needs the operator token" })
  await next()
})

/** The Idempotency-Key header with a hash of the validated body (same key, other body: 409). */
export const idempotencyOf = async (header: string | undefined, body: unknown): Promise<Idempotency | undefined> => {
  if (header === undefined) return undefined
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) {
    throw new InvalidRequest({
      message: "Idempotency-Key must be 1 to 255 visible ASCII characters",
      issues: [{ path: "header.idempotency-key", message: "must be 1 to 255 visible ASCII characters" }],
    })
  }
  return { key: header, requestHash: await sha256Hex(JSON.stringify(body)) }
}
