// Who may use /debug. A browser cannot add an Authorization header to a page load or to an
// EventSource, so the operator types the token once into /debug's login form and gets a cookie:
//   - HttpOnly (page scripts never see it), SameSite=Strict (no other site can make the browser
//     send it), Path=/debug (never sent to /v1), Secure when the request came over HTTPS;
//   - its value is an expiry time signed with HMAC-SHA256 keyed by the operator token: it does
//     not contain the token, needs no server-side session table (any replica checks it), expires
//     after `sessionSeconds`, and every session ends when the operator token changes.
// Scripts and curl may still send `Authorization: Bearer <operator token>` instead.
import { Clock } from "effect"
import type { Context } from "hono"
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie"
import { createMiddleware } from "hono/factory"
import { Forbidden, Unauthorized } from "../../src/domain/errors.ts"
import { constantTimeEqual } from "../../src/management/credentials.ts"
import { Authentication } from "../../src/management/authentication.ts"
import type { FabricEnv } from "./env.ts"

const cookieName = "fabric_debug_session"
const cookiePath = "/debug"
export const sessionSeconds = 12 * 60 * 60

// A key of its own, so a debug cookie's signature is no oracle for anything else keyed by the token.
const signingKey = (operatorToken: string) => `fabric-debug-session:${operatorToken}`

const overHttps = (c: Context) =>
  new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https"

const now = (c: Context<FabricEnv>) => c.var.run(Clock.currentTimeMillis)

export const isOperatorToken = (candidate: string, operatorToken: string) => constantTimeEqual(candidate, operatorToken)

export const startSession = async (c: Context<FabricEnv>, operatorToken: string) => {
  const expiresAt = (await now(c)) + sessionSeconds * 1000
  await setSignedCookie(c, cookieName, String(expiresAt), signingKey(operatorToken), {
    httpOnly: true, sameSite: "Strict", path: cookiePath, maxAge: sessionSeconds, secure: overHttps(c),
  })
}

export const endSession = (c: Context<FabricEnv>) =>
  deleteCookie(c, cookieName, { httpOnly: true, sameSite: "Strict", path: cookiePath, secure: overHttps(c) })

const bearerOf = (c: Context) => /^Bearer (\S+)$/.exec(c.req.header("authorization") ?? "")?.[1]

/** The operator's bearer token or session cookie (for the page itself, which holds no data). */
export const isOperatorRequest = async (c: Context<FabricEnv>, operatorToken: string) => {
  const bearer = bearerOf(c)
  return (bearer !== undefined && isOperatorToken(bearer, operatorToken)) || (await hasSession(c, operatorToken))
}

/** True for a cookie this operator token signed that has not expired. */
export const hasSession = async (c: Context<FabricEnv>, operatorToken: string): Promise<boolean> => {
  const value = await getSignedCookie(c, signingKey(operatorToken), cookieName)
  return typeof value === "string" && /^\d+$/.test(value) && Number(value) > (await now(c))
}

/** The operator, by session cookie or bearer token; an account key is 403, nothing at all 401. */
export const debugOperatorOnly = (operatorToken: string) =>
  createMiddleware<FabricEnv>(async (c, next) => {
    const authorization = c.req.header("authorization")
    if (authorization !== undefined) {
      const caller = await c.var.run(Authentication.use((a) => a.authenticate(authorization, operatorToken)))
      if (caller.kind !== "operator") throw new Forbidden({ message: "the debug UI needs the operator token" })
    } else if (!(await hasSession(c, operatorToken))) {
      throw new Unauthorized({ message: "log in at /debug with the operator token (or send it as a bearer token)" })
    }
    await next()
  })
