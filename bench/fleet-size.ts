// Section 5: time to Ready against the number of member clusters, on the embedded default
// (`fabric dev` with 3, 30, 100, 200 simulated clusters, one process per count), creates one after
// another. The baseline is the 3-cluster figure of the same run. A count that crashes or does not
// converge within its bound is reported as such; the section never hangs on it.
import { performance } from "node:perf_hooks"
import { readyEverywhere } from "./api.ts"
import { startEmbedded, type Installation } from "./installation.ts"
import { errorLine } from "./processes.ts"
import type { Figure, SectionResult } from "./report.ts"
import type { Section } from "./section.ts"
import { scaled } from "./settings.ts"
import { latency, mebibytes, ms, type Latency } from "./stats.ts"

const counts = [3, 30, 100, 200]
const startBoundMs = 120_000
const createsBoundMs = 120_000
const targetFactor = 1.5

type Outcome =
  | { readonly ok: true; readonly ready: Latency; readonly startMs: number; readonly rssKiB: number }
  | { readonly ok: false; readonly reason: string }

const measureCount = async (ctx: Parameters<Section["run"]>[0], clusters: number, creates: number): Promise<Outcome> => {
  const ids = Array.from({ length: clusters }, (_, i) => `s${i + 1}`)
  const t0 = performance.now()
  let inst: Installation | undefined
  try {
    inst = await startEmbedded(ctx.settings, { name: `fleet-${clusters}`, clusters: ids, startTimeoutMs: startBoundMs })
  } catch (e) {
    const text = String((e as Error)?.message ?? e)
    return { ok: false, reason: /exited/.test(text) ? `crashed while starting: ${errorLine(text) ?? firstLines(e)}` : `did not start within ${ms(startBoundMs)}: ${firstLines(e)}` }
  }
  const startMs = performance.now() - t0
  try {
    const { accountId } = await inst.api.createAccount(`f${clusters}`)
    const deadline = performance.now() + createsBoundMs
    const samples: number[] = []
    for (let i = 0; i < creates + 1; i++) {
      const sent = performance.now()
      const p = await inst.api.createProjectOrThrow(accountId, `f${i}`)
      const ready = await inst.api.watchUntil(p.id, readyEverywhere(ids), Math.max(1, deadline - performance.now()))
      if (!ready) {
        const server = inst.server()
        return { ok: false, reason: server.alive() ? `did not converge: ${samples.length} of ${creates} Ready within ${ms(createsBoundMs)}` : `crashed (${server.child.exitCode ?? server.child.signalCode}) after ${samples.length} creates: ${errorLine(server.tail()) ?? server.tail(3)}` }
      }
      if (i > 0) samples.push(ready.at - sent) // the first create warms the process up
    }
    return { ok: true, ready: latency(samples), startMs, rssKiB: inst.server().rssKiB() }
  } catch (e) {
    const server = inst.server()
    return { ok: false, reason: server.alive() ? `failed: ${firstLines(e)}` : `crashed (${server.child.exitCode ?? server.child.signalCode}): ${errorLine(server.tail()) ?? server.tail(3)}` }
  } finally {
    await inst.stop()
  }
}

const firstLines = (e: unknown) => String((e as Error)?.message ?? e).split("\n").slice(0, 4).join(" / ").slice(0, 400)

export const fleetSize: Section = {
  name: "fleet",
  run: async (ctx): Promise<SectionResult> => {
    const creates = scaled(ctx.settings, 20, 5)
    const outcomes = new Map<number, Outcome>()
    for (const n of counts) {
      ctx.log(`fleet: ${n} simulated clusters, ${creates} creates one after another`)
      outcomes.set(n, await measureCount(ctx, n, creates))
    }
    const base = outcomes.get(3)!
    const figures: Figure[] = counts.map((n) => {
      const o = outcomes.get(n)!
      if (!o.ok) return { what: `Ready p50 / p99, ${n} clusters`, value: o.reason, target: n === 100 ? `≤ ${targetFactor}x of 3` : undefined, met: n === 100 ? false : undefined }
      const ratio = base.ok ? `${(o.ready.p50 / base.ready.p50).toFixed(2)}x / ${(o.ready.p99 / base.ready.p99).toFixed(2)}x` : ""
      const met = base.ok ? o.ready.p50 <= targetFactor * base.ready.p50 && o.ready.p99 <= targetFactor * base.ready.p99 : undefined
      return {
        what: `Ready p50 / p99, ${n} clusters (start ${ms(o.startMs)}, RSS ${mebibytes(o.rssKiB)})`, value: `${ms(o.ready.p50)} / ${ms(o.ready.p99)}`,
        baseline: n === 3 ? "(the baseline)" : base.ok ? `${ms(base.ready.p50)} / ${ms(base.ready.p99)}` : "n/a",
        ratio: n === 3 ? "" : ratio, target: n === 100 ? `≤ ${targetFactor}x of 3` : undefined, met: n === 100 ? met : undefined,
      }
    })
    return {
      title: "5. Time to Ready against the number of clusters (embedded default)",
      figures,
      notes: [
        `Each count is its own \`fabric dev\` process on a fresh data directory (PGlite, embedded event log, N simulated clusters with no added latency, default heartbeats); after one warm-up create, ${creates} creates one after another, each awaited Ready in every cluster through its watch stream. Ratios are p50 / p99 over the 3-cluster run.`,
        "A crash is reported with the error line the process printed; its whole log is in the run's log directory.",
        `Bounds: ${ms(startBoundMs)} to start (every cluster Active), then ${ms(createsBoundMs)} for all creates; a count past its bound or whose process died is printed as such. The target counts p50 and p99.`,
      ],
    }
  },
}
