// A TCP proxy in front of Postgres that counts, from the wire protocol, the statements a client
// sends (each extended-protocol Sync or simple Query) and its round trips: a statement sent while
// the connection has no answer outstanding starts one, and statements pipelined behind it ride
// along until a ReadyForQuery answers them. pg_stat_statements would need a server restart with
// shared_preload_libraries, which the shared engines do not have.
import { createServer, connect, type Socket } from "node:net"

export interface WireCounts { statements: number; roundTrips: number; connections: number }

/** Splits a byte stream into Postgres messages; `startup` messages have no type byte. */
const messageReader = (onMessage: (type: string | undefined, body: Buffer) => void, startsUntyped: () => boolean) => {
  let pending: Buffer = Buffer.alloc(0)
  return (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    for (;;) {
      const untyped = startsUntyped()
      const header = untyped ? 4 : 5
      if (pending.length < header) return
      const length = pending.readInt32BE(untyped ? 0 : 1)
      const total = (untyped ? 0 : 1) + length
      if (pending.length < total) return
      onMessage(untyped ? undefined : String.fromCharCode(pending[0]!), pending.subarray(header, total))
      pending = pending.subarray(total)
    }
  }
}

const sslRequestCode = 80877103
const gssEncRequestCode = 80877104

export const startRoundTripProxy = async (target: { host: string; port: number }) => {
  const counts: WireCounts = { statements: 0, roundTrips: 0, connections: 0 }
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    counts.connections++
    const upstream = connect(target.port, target.host)
    sockets.add(client).add(upstream)
    let clientStartup = true // until the StartupMessage went by
    let serverSingleBytes = 0 // answers to SSLRequest/GSSENCRequest are one byte, untyped
    let outstanding = 0
    const fromClient = messageReader((type, body) => {
      if (type === undefined) {
        const code = body.length >= 4 ? body.readInt32BE(0) : 0
        if (code === sslRequestCode || code === gssEncRequestCode) serverSingleBytes++
        else clientStartup = false
        return
      }
      if (type === "S" || type === "Q") {
        counts.statements++
        if (outstanding === 0) counts.roundTrips++
        outstanding++
      }
    }, () => clientStartup)
    const fromServer = (chunk: Buffer) => {
      let rest = chunk
      while (serverSingleBytes > 0 && rest.length > 0) { serverSingleBytes--; rest = rest.subarray(1) }
      if (rest.length > 0) readServer(rest)
    }
    const readServer = messageReader((type) => {
      if (type === "Z") outstanding = Math.max(0, outstanding - 1)
    }, () => false)
    client.on("data", (d) => { fromClient(d); upstream.write(d) })
    upstream.on("data", (d) => { fromServer(d); client.write(d) })
    const close = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
    client.on("close", close).on("error", close)
    upstream.on("close", close).on("error", close)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  if (typeof address !== "object" || !address) throw new Error("proxy has no port")
  return {
    port: address.port,
    counts,
    /** Counts since the last snapshot, then starts again from zero. */
    take: (): WireCounts => {
      const taken = { ...counts }
      counts.statements = 0; counts.roundTrips = 0; counts.connections = 0
      return taken
    },
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) }),
  }
}
