// Section 1: how many projects per second `fabric rpc` creates with 16 clients (over 16 accounts,
// then all on one account), against the database alone doing the same writes per transaction
// with 16 clients. The write mix, commits and round trips per create come from the server: its
// statistics views over the run, and a counting proxy on the wire for a second, shorter pass.
import { closedLoop, type ClosedLoopResult } from "./load.ts"
import { startInstallation, type Installation } from "./installation.ts"
import { delta, describeTables, describeWrites, readCounters, settledCounters, totalWrites, type CounterDelta } from "./postgres-stats.ts"
import { describeMix, runWriteTransactions, runWriteTransactionsOnPglite, writeMixOf, type WriteMix } from "./postgres-baseline.ts"
import { startRoundTripProxy } from "./round-trip-proxy.ts"
import { freshDatabase } from "../tests/support/real-engines.ts"
import postgres from "postgres"
import type { Figure, SectionResult } from "./report.ts"
import type { Section, SectionContext } from "./section.ts"
import { scaled } from "./settings.ts"
import { fixed, latency, ms, percent, perSecond, sleep } from "./stats.ts"

const clients = 16
const targetRatio = 0.6
const idleWindowMs = 5_000

const createLoad = (inst: Installation, accounts: ReadonlyArray<string>, total: number, tag: string) =>
  closedLoop(clients, total, async (i, client) => {
    const r = await inst.api.createProject(accounts[client % accounts.length]!, `${tag}${i}`)
    if (r.status !== 201) throw new Error(`create answered ${r.status}: ${r.error}`)
  })

const rate = (r: ClosedLoopResult) => r.latencies.length / r.seconds

/** Server counters over one load run, with the idle rate (relay polling, sweeper) measured before. */
const measured = async (url: string, run: () => Promise<ClosedLoopResult>) => {
  const idleStart = await readCounters(url)
  await sleep(idleWindowMs)
  const before = await readCounters(url)
  const idle = delta(idleStart, before)
  const result = await run()
  const after = await settledCounters(url)
  return { result, counters: delta(before, after), idleCommitsPerSecond: idle.commits / idle.seconds, idleWritesPerSecond: totalWrites(idle.writes) / idle.seconds }
}

const failuresNote = (label: string, r: ClosedLoopResult) => (r.failures > 0 ? [`${label}: ${r.failures} creates failed; first: ${r.firstFailure}`] : [])

export const createThroughput: Section = {
  name: "create",
  run: async (ctx: SectionContext): Promise<SectionResult> => {
    const { settings, log } = ctx
    const total = scaled(settings, 2000, 50)
    const proxied = scaled(settings, 400, 32)
    const inst = await startInstallation(settings, ctx.engines, "create", false)
    const notes: string[] = []
    const figures: Figure[] = []
    try {
      const accounts: string[] = []
      for (let a = 0; a < clients; a++) accounts.push((await inst.api.createAccount(`c${a}`)).accountId)
      log(`create: warm-up (${clients * 10} creates)`)
      await createLoad(inst, accounts, clients * 10, "warm")

      let many: ClosedLoopResult, one: ClosedLoopResult
      let stats: { many: CounterDelta; one: CounterDelta; idleCommits: number; idleWrites: number } | undefined
      if (inst.kind === "real") {
        await sleep(12_000) // the warm-up's counters published before the first reading
        log(`create: ${total} creates, 16 clients over 16 accounts`)
        const m = await measured(inst.databaseUrl!, () => createLoad(inst, accounts, total, "m"))
        log(`create: ${total} creates, 16 clients on one account`)
        const o = await measured(inst.databaseUrl!, () => createLoad(inst, [accounts[0]!], total, "o"))
        many = m.result; one = o.result
        stats = { many: m.counters, one: o.counters, idleCommits: m.idleCommitsPerSecond, idleWrites: m.idleWritesPerSecond }
        ctx.shared.writeMix = writeMixOf(m.counters.writes, many.latencies.length)
      } else {
        log(`create: ${total} creates, 16 clients over 16 accounts (embedded)`)
        many = await createLoad(inst, accounts, total, "m")
        log(`create: ${total} creates, 16 clients on one account (embedded)`)
        one = await createLoad(inst, [accounts[0]!], total, "o")
      }

      // Round trips: a second, shorter pass with the rpc's connections through the counting proxy
      // (a hop that costs latency, so the rates above are measured without it).
      let wire: { statements: number; roundTrips: number; idleStatementsPerSecond: number; creates: number } | undefined
      if (inst.kind === "real") {
        const target = new URL(inst.databaseUrl!)
        const proxy = await startRoundTripProxy({ host: target.hostname, port: Number(target.port) })
        try {
          const through = new URL(inst.databaseUrl!)
          through.hostname = "127.0.0.1"
          through.port = String(proxy.port)
          await inst.restartServer("SIGTERM", { DATABASE_URL: through.toString() })
          await createLoad(inst, accounts, clients * 3, "pw")
          await sleep(1_000)
          proxy.take()
          await sleep(idleWindowMs)
          const idle = proxy.take()
          log(`create: ${proxied} creates through the round-trip counting proxy`)
          const pass = await createLoad(inst, accounts, proxied, "p")
          await sleep(500) // the relay's publish and mark-sent of the last rows
          const counted = proxy.take()
          const idleStatementsPerSecond = idle.statements / (idleWindowMs / 1000)
          const idleRoundTripsPerSecond = idle.roundTrips / (idleWindowMs / 1000)
          const window = pass.seconds + 0.5
          wire = {
            creates: pass.latencies.length,
            statements: (counted.statements - idleStatementsPerSecond * window) / pass.latencies.length,
            roundTrips: (counted.roundTrips - idleRoundTripsPerSecond * window) / pass.latencies.length,
            idleStatementsPerSecond,
          }
        } finally {
          await inst.stop()
          await proxy.close()
        }
      }

      // Baseline: the database alone, 16 clients, transactions of the same writes.
      const mix: WriteMix | undefined = ctx.shared.writeMix ?? envMix()
      await inst.stop()
      let baseline: ClosedLoopResult | undefined
      let baselineCounters: CounterDelta | undefined
      if (mix) {
        log(`create: baseline, ${total} transactions of ${describeMix(mix)} writes`)
        if (inst.kind === "real") {
          const database = await freshDatabase()
          const sql = postgres(database.url, { max: clients, onnotice: () => {} })
          try {
            await runWriteTransactions(sql, clients, clients * 10, mix) // warm-up
            await sleep(12_000)
            const before = await readCounters(database.url)
            baseline = await runWriteTransactions(sql, clients, total, mix)
            baselineCounters = delta(before, await settledCounters(database.url))
          } finally {
            await sql.end({ timeout: 5 })
            await database.drop()
          }
        } else {
          baseline = await runWriteTransactionsOnPglite(clients, total, mix)
        }
      }

      if (baseline && baseline.latencies.length === 0) throw new Error(`every baseline transaction failed; first: ${baseline.firstFailure}`)
      const m = latency(many.latencies), o = latency(one.latencies)
      const b = baseline ? latency(baseline.latencies) : undefined
      const ratioFigure = (what: string, r: ClosedLoopResult): Figure => {
        const ratio = baseline ? rate(r) / rate(baseline) : Number.NaN
        return {
          what, value: perSecond(rate(r)), baseline: baseline ? perSecond(rate(baseline)) : "n/a (no write mix)",
          ratio: percent(ratio), target: `≥ ${percent(targetRatio)}`, met: baseline ? ratio >= targetRatio : undefined,
        }
      }
      figures.push(
        ratioFigure("creates/s, 16 clients over 16 accounts", many),
        { what: "create latency p50 / p99, 16 accounts", value: `${ms(m.p50)} / ${ms(m.p99)}`, baseline: b ? `${ms(b.p50)} / ${ms(b.p99)}` : "" },
        ratioFigure("creates/s, 16 clients on one account", one),
        { what: "create latency p50 / p99, one account", value: `${ms(o.p50)} / ${ms(o.p99)}`, baseline: b ? `${ms(b.p50)} / ${ms(b.p99)}` : "" },
      )
      if (stats) {
        const n = many.latencies.length, n1 = one.latencies.length
        const idleCommits = stats.idleCommits * stats.many.seconds
        figures.push(
          { what: "rows written per create (server: pg_stat_user_tables)", value: describeWrites(stats.many.writes, n), baseline: baselineCounters ? describeWrites(baselineCounters.writes, baseline!.latencies.length) : "" },
          { what: "commits per create (pg_stat_database; idle polling taken out)", value: `${fixed((stats.many.commits - idleCommits) / n, 2)} (raw ${fixed(stats.many.commits / n, 2)})`, baseline: baselineCounters ? fixed(baselineCounters.commits / baseline!.latencies.length, 2) : "" },
          { what: "rollbacks per create, 16 accounts / one account", value: `${fixed(stats.many.rollbacks / n, 3)} / ${fixed(stats.one.rollbacks / n1, 3)}` },
          { what: "rows written per create, one account", value: describeWrites(stats.one.writes, n1) },
        )
        notes.push(
          `Rows per create by table (16 accounts): ${describeTables(stats.many.tables, n)}.`,
          `Idle (before the run, ${idleWindowMs / 1000} s): ${fixed(stats.idleCommits, 1)} commits/s, ${fixed(stats.idleWrites, 1)} rows/s; the commits per create subtract that rate over the run.`,
        )
      }
      if (wire) {
        figures.push({
          what: "statements / round trips per create (wire proxy)", value: `${fixed(wire.statements, 1)} / ${fixed(wire.roundTrips, 1)}`,
          baseline: mix ? `${mix.inserts + mix.updates + mix.deletes + 2} / ${mix.inserts + mix.updates + mix.deletes + 2}` : "",
        })
        notes.push(`Statements and round trips: ${wire.creates} creates with the rpc's pool through a TCP proxy that reads the Postgres protocol (a Sync or Query is a statement; one sent with no answer outstanding starts a round trip, pipelined ones ride along); the idle rate (${fixed(wire.idleStatementsPerSecond, 1)} statements/s, the outbox relay's polling) is taken out. pg_stat_statements is not loaded on the shared server (it needs shared_preload_libraries and a restart).`)
      }
      notes.push(
        inst.kind === "real"
          ? `Fabric: \`fabric rpc\` alone (no daemons) on the real Postgres and Kafka, a fresh database, quota ${"100000"}; ${total} creates per case after ${clients * 10} warm-up creates; latency is each POST /v1/accounts/:id/projects from send to answer. The rpc's pool has 10 connections (its default); the baseline has one per client.`
          : `Fabric: \`fabric dev\` (embedded: PGlite, event log, 3 simulated clusters in the same process, so the daemons' work is in the figure); ${total} creates per case.`,
        mix
          ? `Baseline: ${inst.kind === "real" ? "the same Postgres server, a fresh database" : "PGlite behind pglite-socket with one connection, as the embedded default uses it"}, ${clients} clients, ${total} transactions each of ${describeMix(mix)} single-row statements (the write mix the server counted per create${ctx.shared.writeMix ? "" : ", from BENCH_WRITE_MIX"}), BEGIN and COMMIT.`
          : "Baseline: needs the write mix of a create, which only the real engines count (run the real `create` section first in the same run, or set BENCH_WRITE_MIX=ins,upd,del).",
        ...failuresNote("16 accounts", many), ...failuresNote("one account", one), ...(baseline ? failuresNote("baseline", baseline) : []),
      )
      return { title: "1. Create throughput (16 clients)", figures, notes }
    } finally {
      await inst.stop().catch(() => {})
    }
  },
}

/** BENCH_WRITE_MIX=ins,upd,del: the write mix for the embedded baseline when no real run measured it. */
const envMix = (): WriteMix | undefined => {
  const raw = process.env.BENCH_WRITE_MIX
  if (!raw) return undefined
  const [inserts, updates, deletes] = raw.split(",").map(Number)
  if (![inserts, updates, deletes].every((n) => Number.isInteger(n) && n! >= 0)) throw new Error(`BENCH_WRITE_MIX=${raw}: three whole numbers ins,upd,del`)
  return { inserts: inserts!, updates: updates!, deletes: deletes! }
}
