// Who may use /debug. A browser cannot add an Authorization header to a page load or to an
// EventSource, so the operator types the token once into /debug's login form and gets a cookie:
//   - HttpOnly (page scripts never see it), SameSite=Strict (no other site can make the browser
//     send it), Path=/debug (never sent to /v1), Secure when the request came over HTTPS;
//   - its value is a random session id and an expiry time, signed with HMAC-SHA256 keyed by the
//     operator token: it does not contain the token, any replica checks it, it expires after
//     `sessionSeconds`, and every session ends when the operator token changes;
//   - logging out ends it on the server too: its id goes into a revocation table in Postgres
//     (fabric.debug_session_revocations), which every replica reads with one primary-key lookup
//     per request. A per-session revocation, not a generation counter, so one browser's logout
//     does not end the operator's other sessions; rows live only until the cookie would expire.
// Scripts and curl may still send `Authorization: Bearer <operator token>` instead.
import { Clock } from "effect"
import type { Context } from "hono"
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie"
import { createMiddleware } from "hono/factory"
import { Forbidden, Unauthorized } from "../../src/domain/errors.ts"
import { bearerTokenOf, constantTimeEqual } from "../../src/management/credentials.ts"
import { Authentication } from "../../src/management/authentication.ts"
import type { FabricEnv } from "./env.ts"

const cookieName = "fabric_debug_session"
const cookiePath = "/debug"
export const sessionSeconds = 12 * 60 * 60

// A key of its own, so a debug cookie's signature is no oracle for anything else keyed by the token.
const signingKey = (operatorToken: string) => `fabric-debug-session:${operatorToken}`

const overHttps = (c: Context) =>
  new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https"

export const now = (c: Context<FabricEnv>) => c.var.run(Clock.currentTimeMillis)

export const isOperatorToken = (candidate: string, operatorToken: string) => constantTimeEqual(candidate, operatorToken)

const cookieOptions = (c: Context) => ({ httpOnly: true, sameSite: "Strict", path: cookiePath, secure: overHttps(c) }) as const

export const startSession = async (c: Context<FabricEnv>, operatorToken: string) => {
  const expiresAt = (await now(c)) + sessionSeconds * 1000
  await setSignedCookie(c, cookieName, `${crypto.randomUUID()}_${expiresAt}`, signingKey(operatorToken), { ...cookieOptions(c), maxAge: sessionSeconds })
}

interface Session { readonly id: string; readonly expiresAt: number }

/** The session of a cookie this operator token signed that has not expired (revocation unchecked). */
const signedSession = async (c: Context<FabricEnv>, operatorToken: string): Promise<Session | undefined> => {
  const value = await getSignedCookie(c, signingKey(operatorToken), cookieName)
  const match = typeof value === "string" ? /^([0-9a-f-]{36})_(\d{1,15})$/.exec(value) : null
  if (match === null) return undefined
  const session = { id: match[1]!, expiresAt: Number(match[2]) }
  return session.expiresAt > (await now(c)) ? session : undefined
}

/** Ends the session here and on every replica (its id is revoked until it would have expired). */
export const endSession = async (c: Context<FabricEnv>, operatorToken: string) => {
  const session = await signedSession(c, operatorToken)
  if (session !== undefined) await c.var.run(Authentication.use((a) => a.revokeDebugSession(session.id, session.expiresAt)))
  deleteCookie(c, cookieName, cookieOptions(c))
}

/** The operator's bearer token or session cookie (for the page itself, which holds no data). */
export const isOperatorRequest = async (c: Context<FabricEnv>, operatorToken: string) => {
  const bearer = bearerTokenOf(c.req.header("authorization"))
  return (bearer !== undefined && isOperatorToken(bearer, operatorToken)) || (await hasSession(c, operatorToken))
}

/** True for an unexpired cookie this operator token signed whose session was not logged out. */
export const hasSession = async (c: Context<FabricEnv>, operatorToken: string): Promise<boolean> => {
  const session = await signedSession(c, operatorToken)
  return session !== undefined && !(await c.var.run(Authentication.use((a) => a.isDebugSessionRevoked(session.id))))
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
