// Loopback ports for the test support's servers and the processes it starts.
import type { Server } from "node:net"
import { createServer } from "node:net"

/**
 * A port nobody listens on, below Linux's ephemeral range (32768-60999), so that no outgoing
 * connection of a test running beside this one takes it between the check and the listen.
 */
export const freePort = async (): Promise<number> => {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer().once("error", () => resolve(false)).listen(port, "127.0.0.1", () => probe.close(() => resolve(true)))
    })
    if (free) return port
  }
}

/** Starts `server` on a port the system picks on 127.0.0.1, and returns that port. */
export const listenOnLoopback = async (server: Server, what: string): Promise<number> => {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === "string") throw new Error(`${what}: no TCP address`)
  return address.port
}
