// The porsager driver's "socket" to PGlite, in process: the client's protocol bytes are cut into
// messages and run by PGlite one after the other; its answers come back as `data` events. PGlite
// is ONE Postgres session, so exactly one such socket may be open (the pool has max 1).
//
// write() never reports backpressure. porsager reserves the connection for a transaction in a
// hook that runs only when the write of BEGIN reports room (and the pipeline is not full); when
// it does not, BEGIN still reaches the server but the connection goes back to the pool, and every
// other caller's statements then run inside that transaction (porsager/postgres#1189). Together
// with an unbounded pipeline (pglite.ts) that hook therefore always runs.
import { EventEmitter } from "node:events"
import type { PGlite } from "@electric-sql/pglite"

const cancelRequestCode = 80877102
const terminate = 0x58 // 'X'

export class PgliteWire extends EventEmitter {
  readyState: "open" | "closed" = "open"
  private readonly db: PGlite
  private pending: Buffer = Buffer.alloc(0)
  private readonly messages: Array<Uint8Array> = []
  private started = false
  private running = false

  constructor(db: PGlite) {
    super()
    this.db = db
  }

  write(chunk: Uint8Array | string, callback?: (error?: Error) => void): boolean {
    if (this.readyState === "closed") {
      callback?.(new Error("PGlite connection is closed"))
      return true
    }
    this.pending = Buffer.concat([this.pending, typeof chunk === "string" ? Buffer.from(chunk) : chunk])
    this.cut()
    if (callback) queueMicrotask(() => callback())
    return true
  }

  end(chunk?: Uint8Array): this {
    if (chunk) this.write(chunk)
    this.whenIdle(() => this.close())
    return this
  }

  destroy(): this {
    this.messages.length = 0
    this.close()
    return this
  }

  setKeepAlive(): this {
    return this
  }

  pause(): this {
    return this
  }

  resume(): this {
    return this
  }

  /** Moves every complete message from the byte buffer to the queue. */
  private cut(): void {
    while (this.pending.length >= 5) {
      // the startup (or cancel) packet has no type byte: int32 length, int32 code
      const length = this.started ? 1 + this.pending.readInt32BE(1) : this.pending.readInt32BE(0)
      if (this.pending.length < length) break
      const message = this.pending.subarray(0, length)
      this.pending = this.pending.subarray(length)
      if (!this.started) {
        this.started = true
        // PGlite has no backend to signal: a cancel request only ends its connection
        if (length === 16 && message.readInt32BE(4) === cancelRequestCode) return void this.end()
      }
      this.messages.push(new Uint8Array(message))
    }
    if (!this.running && this.messages.length > 0) void this.run()
  }

  private idleWaiters: Array<() => void> = []
  private whenIdle(then: () => void): void {
    if (!this.running && this.messages.length === 0) then()
    else this.idleWaiters.push(then)
  }

  private async run(): Promise<void> {
    this.running = true
    try {
      await this.db.runExclusive(async () => {
        let message: Uint8Array | undefined
        while ((message = this.messages.shift()) !== undefined) {
          if (message[0] === terminate) continue
          const answer: Array<Uint8Array> = []
          // PGlite reuses its buffer: copy before the next message overwrites it
          await this.db.execProtocolRawStream(message, { onRawData: (data) => void answer.push(Buffer.from(data)) })
          if (this.readyState === "open") for (const data of answer) this.emit("data", data)
        }
      })
    } catch (error) {
      this.emit("error", error)
      this.destroy()
    } finally {
      this.running = false
    }
    if (this.messages.length > 0) return this.run()
    for (const waiter of this.idleWaiters.splice(0)) waiter()
  }

  private close(): void {
    if (this.readyState === "closed") return
    this.readyState = "closed"
    // the session outlives this connection: the next one must not inherit an open transaction
    const rollback = this.db.closed ? Promise.resolve() : this.db.runExclusive(async () => {
      if (this.db.isInTransaction()) await this.db.exec("rollback")
    }).catch(() => {})
    void rollback.then(() => this.emit("close", false))
  }
}
