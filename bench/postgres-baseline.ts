// The baseline of the create figures: the database alone, with the same number of clients, each
// running transactions of the same writes a Fabric create does (inserts, updates and deletes in
// the proportions the server counted), one statement per write, like a hand-written service
// that keeps one transaction per create. Rows look like Fabric's: a text key, an account, a JSON
// document of a few hundred bytes, a timestamp, an index besides the primary key.
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import postgres from "postgres"
import { closedLoop, type ClosedLoopResult } from "./load.ts"

export interface WriteMix { readonly inserts: number; readonly updates: number; readonly deletes: number }

export const writeMixOf = (w: { inserted: number; updated: number; deleted: number }, per: number): WriteMix => ({
  inserts: Math.round(w.inserted / per), updates: Math.round(w.updated / per), deletes: Math.round(w.deleted / per),
})

export const describeMix = (m: WriteMix) => `${m.inserts + m.updates + m.deletes} (ins ${m.inserts}, upd ${m.updates}, del ${m.deletes})`

const payload = JSON.stringify({ kind: "bench", labels: { "app.kubernetes.io/managed-by": "fabric" }, text: "x".repeat(240) })

const prepare = async (sql: postgres.Sql, clients: number) => {
  await sql`create table if not exists bench_rows (
    id text primary key, account text not null, doc jsonb not null, updated_at timestamptz not null default now())`
  await sql`create index if not exists bench_rows_account on bench_rows (account)`
  // One standing row per client (an account's row), updated when a transaction has more updates than inserts.
  for (let c = 0; c < clients; c++) await sql`insert into bench_rows (id, account, doc) values (${`acct-${c}`}, ${`acct-${c}`}, ${payload}::text::jsonb) on conflict do nothing`
}

let serial = 0 // row ids stay unique across the warm-up and the measured run

/** `transactions` transactions of `mix` over `clients` clients; each client uses its own account row. */
export const runWriteTransactions = async (sql: postgres.Sql, clients: number, transactions: number, mix: WriteMix): Promise<ClosedLoopResult> => {
  await prepare(sql, clients)
  return closedLoop(clients, transactions, async (_, client) => {
    const account = `acct-${client}`
    await sql.begin(async (tx) => {
      const ids: string[] = []
      for (let k = 0; k < mix.inserts; k++) {
        const id = `r${process.pid}-${++serial}`
        ids.push(id)
        await tx`insert into bench_rows (id, account, doc) values (${id}, ${account}, ${payload}::text::jsonb)`
      }
      for (let k = 0; k < mix.updates; k++) {
        const id = ids.length > 0 ? ids[k % ids.length]! : account
        await tx`update bench_rows set doc = jsonb_set(doc, '{n}', ${k}::text::jsonb), updated_at = now() where id = ${id}`
      }
      for (let k = 0; k < mix.deletes; k++) {
        const id = ids.pop()
        if (id !== undefined) await tx`delete from bench_rows where id = ${id}`
        else await tx`delete from bench_rows where id = ${`none-${k}`}`
      }
    })
  })
}

/** The same on PGlite behind pglite-socket with one connection: how the embedded default reaches its database. */
export const runWriteTransactionsOnPglite = async (clients: number, transactions: number, mix: WriteMix): Promise<ClosedLoopResult> => {
  const db = await PGlite.create()
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 1 })
  await server.start()
  const [host, port] = server.getServerConn().split(":")
  const sql = postgres({ host, port: Number(port), database: "postgres", username: "postgres", ssl: false, max: 1, onnotice: () => {}, idle_timeout: 0, max_lifetime: null })
  try {
    return await runWriteTransactions(sql, clients, transactions, mix)
  } finally {
    await sql.end({ timeout: 5 })
    await server.stop()
    await db.close()
  }
}
