// Form posts that change the session (/debug/login, /debug/logout) must come from this server's own
// pages. SameSite=Strict keeps the cookie off cross-site requests, but a login needs no cookie (a
// forged one would log the browser into the attacker's choice); a browser always sends Origin on
// a POST, so a foreign one is refused. No Origin at all is a non-browser client (curl), allowed.
import type { Context } from "hono"
import { createMiddleware } from "hono/factory"
import { Forbidden } from "../src/domain/errors.ts"

/** This server's origin as the browser sees it (behind a TLS-terminating proxy too). */
const ownOrigins = (c: Context) => {
  const url = new URL(c.req.url)
  const host = c.req.header("host") ?? url.host
  return new Set([url.origin, `${url.protocol}//${host}`, ...(c.req.header("x-forwarded-proto") === "https" ? [`https://${host}`] : [])])
}

export const sameOriginOnly = createMiddleware(async (c, next) => {
  const origin = c.req.header("origin")
  // "null" (a sandboxed or privacy-sensitive context) is a browser we cannot place: refused too.
  if (origin !== undefined && !ownOrigins(c).has(origin)) {
    throw new Forbidden({ message: `cross-origin request refused: Origin ${origin} is not this server` })
  }
  await next()
})
