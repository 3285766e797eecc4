// Page cursors as clients see them. The store's position (opaque here) is bound to the list it
// pages (the account) and signed with HMAC-SHA256 through WebCrypto, keyed by the operator token:
// it is the one secret every replica of an installation shares, so any replica opens a cursor
// another handed out, and nothing else decodes, however well formed (a forged timestamp never
// reaches the database). Changing the token voids outstanding cursors: the client starts again.
import { InvalidRequest } from "../../src/domain/errors.ts"

const encoder = new TextEncoder()
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

const toBase64Url = (bytes: Uint8Array) =>
  btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join("")).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
const fromBase64Url = (text: string) =>
  Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))

/** `<position>.<signature>`, both base64url: what rpc/http/schemas.ts lets through to `open`. */
export const cursorPattern = /^[A-Za-z0-9_-]{1,400}\.[A-Za-z0-9_-]{43}$/u

export const invalidCursor = () =>
  new InvalidRequest({ message: "invalid cursor", issues: [{ path: "query.cursor", message: "invalid cursor: not one this API returned for this list" }] })

export interface Cursors {
  readonly seal: (scope: string, position: string) => Promise<string>
  /** The position sealed for this scope, or an InvalidRequest for anything else. */
  readonly open: (scope: string, cursor: string) => Promise<string>
}

export const makeCursors = (secret: string): Cursors => {
  // A key of its own, so a cursor's signature is no oracle for anything else keyed by the token.
  const key = crypto.subtle.importKey("raw", encoder.encode(`fabric-cursor:${secret}`), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"])
  const signed = (scope: string, position: string) => encoder.encode(`${scope}\n${position}`)
  return {
    seal: async (scope, position) =>
      `${toBase64Url(encoder.encode(position))}.${toBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", await key, signed(scope, position))))}`,
    open: async (scope, cursor) => {
      const [encoded, signature] = cursorPattern.test(cursor) ? cursor.split(".") : []
      if (encoded === undefined || signature === undefined) throw invalidCursor()
      let position: string
      try { position = strictUtf8.decode(fromBase64Url(encoded)) } catch { throw invalidCursor() }
      if (!(await crypto.subtle.verify("HMAC", await key, fromBase64Url(signature), signed(scope, position)))) throw invalidCursor()
      return position
    },
  }
}
