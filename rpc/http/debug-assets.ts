// The debug UI's files (rpc/debug-ui), served by Fabric itself so /debug works with no internet:
// a fixed list, each with its content type, read from disk on every request (a few kB; an edit
// shows on reload). The Content-Security-Policy allows this origin only: no CDN could slip in.
import { readFile } from "node:fs/promises"

const contentTypes = {
  "index.html": "text/html; charset=utf-8",
  "login.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "chart.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
} as const

export type DebugAsset = keyof typeof contentTypes

export const isDebugAsset = (name: string): name is DebugAsset => Object.hasOwn(contentTypes, name)

const securityHeaders = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
}

const readDebugAsset = (name: DebugAsset) => readFile(new URL(`../debug-ui/${name}`, import.meta.url), "utf8")

/** A response with the asset's content type; `edit` may fill placeholders of an HTML page. */
export const debugAssetResponse = async (name: DebugAsset, status: 200 | 401 = 200, edit: (text: string) => string = (t) => t) =>
  new Response(edit(await readDebugAsset(name)), { status, headers: { "content-type": contentTypes[name], ...securityHeaders } })
