// A JSON body must be valid UTF-8 (RFC 8259). Request.json() would replace bad bytes with U+FFFD
// and store text the client never sent, so the body is decoded here with a fatal decoder and the
// text handed to Hono's body cache, which c.req.json() (and the json validator) read from.
import { createMiddleware } from "hono/factory"
import { InvalidRequest } from "../../src/domain/errors.ts"

const strictUtf8 = new TextDecoder("utf-8", { fatal: true })
const jsonContentType = /^application\/([\w.-]+\+)?json\s*(;|$)/i

export const strictJsonBody = createMiddleware(async (c, next) => {
  if (c.req.raw.body !== null && jsonContentType.test(c.req.header("content-type") ?? "")) {
    let text: string
    try {
      text = strictUtf8.decode(await c.req.arrayBuffer())
    } catch {
      throw new InvalidRequest({ message: "request body is not valid UTF-8", issues: [{ path: "body", message: "is not valid UTF-8" }] })
    }
    // The cache holds promises of each body type, though its declared type says methods.
    ;(c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text)
  }
  await next()
})
