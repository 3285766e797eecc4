// The latency proxy of tests/support passes every byte on, in order, both ways, and forwards a
// half-close, so TLS and HTTP keep-alive work through it (the real daemon-latency suite relies on it).
import { createConnection, createServer, type AddressInfo } from "node:net"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { startLatencyProxy } from "../support/latency-proxy.ts"

test("chunks arrive complete and in order in both directions; the end is passed on", async () => {
  // An upstream that answers each chunk with its upper-case form and reports what it received.
  const received: Buffer[] = []
  const upstream = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk)
      socket.write(chunk.toString("latin1").toUpperCase(), "latin1")
    })
    socket.on("end", () => socket.end("<end>"))
  })
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()))
  const proxy = await startLatencyProxy({ host: "127.0.0.1", port: (upstream.address() as AddressInfo).port }, 20)
  try {
    const sent = Array.from({ length: 200 }, (_, i) => `chunk-${i};`)
    const client = createConnection({ host: "127.0.0.1", port: proxy.port, allowHalfOpen: true })
    let answer = ""
    client.setEncoding("latin1")
    client.on("data", (d: string) => (answer += d))
    const ended = new Promise<void>((r) => client.on("end", () => r()))
    await new Promise<void>((r) => client.on("connect", () => r()))
    for (const [i, piece] of sent.entries()) {
      client.write(piece)
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1)) // several chunks, not one
    }
    client.end()
    await ended
    assert.is(Buffer.concat(received).toString("latin1"), sent.join(""))
    assert.is(answer, sent.join("").toUpperCase() + "<end>")
    client.destroy()
  } finally {
    await proxy.close()
    await new Promise<void>((r) => upstream.close(() => r()))
  }
})

test.run()
