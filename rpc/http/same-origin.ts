// Form posts that change the session (/debug/login, /debug/logout) must come from this server's own
// pages. SameSite=Strict keeps the cookie off cross-site requests, but a login needs no cookie (a
// forged one would log the browser into the attacker's choice); a browser always sends Origin on
// a POST (and Sec-Fetch-Site, which modern ones trust more), so a foreign one is refused. Neither
// header is a non-browser client (curl), allowed.
import type { Context } from "hono"
import { createMiddleware } from "hono/factory"
import { Forbidden } from "../../src/domain/errors.ts"

/** This server's origin as the browser sees it (behind a TLS-terminating proxy too). */
const ownOrigins = (c: Context) => {
  const url = new URL(c.req.url)
  const host = c.req.header("host") ?? url.host
  return new Set([url.origin, `${url.protocol}//${host}`, ...(c.req.header("x-forwarded-proto") === "https" ? [`https://${host}`] : [])])
}

export const sameOriginOnly = createMiddleware(async (c, next) => {
  // Fetch metadata first: a browser says where the request comes from even when it sends
  // `Origin: null` (Chromium does on a form post from a page whose Referrer-Policy is no-referrer,
  // as /debug's pages are). "none" is the user's own navigation.
  const site = c.req.header("sec-fetch-site")
  if (site !== undefined) {
    if (site !== "same-origin" && site !== "none") throw new Forbidden({ message: `cross-site request refused (Sec-Fetch-Site: ${site})` })
    return next()
  }
  // Older browsers: the Origin. "null" (a sandboxed or privacy-sensitive context) is a browser we cannot place: refused.
  const origin = c.req.header("origin")
  if (origin !== undefined && !ownOrigins(c).has(origin)) {
    throw new Forbidden({ message: `cross-origin request refused: Origin ${origin} is not this server` })
  }
  await next()
})
