// Section 2: an open loop of 50 creates/s for 60 s into `fabric rpc` with three `fabric daemon`
// processes on the real apiservers: the create call's latency, and the time from sending it to
// the project showing Ready in every cluster. The baseline is the same path idle: one create at
// a time, Ready awaited before the next.
import { performance } from "node:perf_hooks"
import { readyEverywhere } from "./api.ts"
import { startInstallation, type Installation } from "./installation.ts"
import { openLoop } from "./load.ts"
import type { SectionResult } from "./report.ts"
import type { Section } from "./section.ts"
import { scaled } from "./settings.ts"
import { latency, ms, perSecond } from "./stats.ts"

const rate = 50
const createTargetMs = 50
const readyTargetMs = 1_000

/** One create and its Ready, timed from `sentAt`; Ready awaited until `readyBy` (both on the performance clock). */
export const createAndAwaitReady = async (inst: Installation, accountId: string, name: string, sentAt: number, readyBy: number): Promise<{ createMs: number; readyMs?: number; error?: string }> => {
  let answeredAt: number | undefined
  try {
    const created = await inst.api.createProject(accountId, name)
    answeredAt = performance.now()
    if (created.status !== 201) return { createMs: answeredAt - sentAt, error: `${created.status} ${created.error}` }
    const ready = await inst.api.watchUntil(created.project!.id, readyEverywhere(inst.clusterIds), Math.max(1, readyBy - answeredAt))
    return { createMs: answeredAt - sentAt, ...(ready ? { readyMs: ready.at - sentAt } : {}) }
  } catch (e) {
    return { createMs: (answeredAt ?? performance.now()) - sentAt, error: String(e) }
  }
}

/** The idle time to Ready: `count` creates one after another on a quiet installation. */
export const idleReady = async (inst: Installation, accountId: string, count: number, tag: string) => {
  const ready: number[] = []
  const create: number[] = []
  for (let i = 0; i < count; i++) {
    const sentAt = performance.now()
    const r = await createAndAwaitReady(inst, accountId, `${tag}${i}`, sentAt, sentAt + 60_000)
    if (r.readyMs === undefined) throw new Error(`idle create ${i} not Ready within 60 s: ${r.error ?? "timed out"}`)
    ready.push(r.readyMs)
    create.push(r.createMs)
  }
  return { ready: latency(ready), create: latency(create) }
}

export const openLoopReady: Section = {
  name: "openloop",
  run: async (ctx): Promise<SectionResult> => {
    const { settings, log } = ctx
    const seconds = scaled(settings, 60, 5)
    const drainMs = 120_000 * Math.min(1, settings.scale * 2)
    // Its thousands of namespaces take the namespace controllers many minutes to delete: ask, wait a little, go on.
    const inst = await startInstallation(settings, ctx.engines, "openloop", true, undefined, 60_000)
    try {
      const accounts: string[] = []
      for (let a = 0; a < 16; a++) accounts.push((await inst.api.createAccount(`o${a}`)).accountId)
      log("openloop: idle baseline (10 creates one after another)")
      await idleReady(inst, accounts[0]!, 3, "w")
      const { ready: idle, create: idleCreate } = await idleReady(inst, accounts[0]!, 10, "i")
      const observed = { ...inst.api.observation }

      log(`openloop: ${rate} creates/s for ${seconds} s`)
      const readyBy = performance.now() + seconds * 1000 + drainMs
      const { started, sendSeconds } = await openLoop(rate, seconds, (i, at) => createAndAwaitReady(inst, accounts[i % accounts.length]!, `ol${i}`, at, readyBy))
      const loopEnd = performance.now()
      const outcomes = await Promise.all(started)
      const drained = (performance.now() - loopEnd) / 1000
      const creates = latency(outcomes.map((o) => o.createMs))
      const readyTimes = outcomes.flatMap((o) => (o.readyMs === undefined ? [] : [o.readyMs]))
      const errors = outcomes.filter((o) => o.error)
      const notReady = outcomes.length - readyTimes.length - errors.length
      // A project never seen Ready counts as slower than any that was: p99 is "over the bound" then.
      const ready = latency([...readyTimes, ...Array.from({ length: notReady + errors.length }, () => Number.POSITIVE_INFINITY)])
      const bound = `${((drainMs / 1000) + seconds).toFixed(0)} s`
      const o = inst.api.observation
      return {
        title: `2. Open loop: ${rate} creates/s for ${seconds} s, ${inst.kind === "real" ? "`fabric rpc` + 3 `fabric daemon` on the real apiservers" : "`fabric dev` with 3 simulated clusters"}`,
        figures: [
          { what: "create p50 / p99", value: `${ms(creates.p50)} / ${ms(creates.p99)}`, baseline: `${ms(idleCreate.p50)} / ${ms(idleCreate.p99)} (idle, one at a time)`, target: `p99 ≤ ${createTargetMs} ms`, met: creates.p99 <= createTargetMs },
          {
            what: "Ready in every cluster p50 / p99 (from the request sent)", value: `${Number.isFinite(ready.p50) ? ms(ready.p50) : `> ${bound}`} / ${Number.isFinite(ready.p99) ? ms(ready.p99) : `> ${bound}`}`,
            baseline: `${ms(idle.p50)} / ${ms(idle.p99)} (idle, one at a time)`, ratio: Number.isFinite(ready.p50) ? `${(ready.p50 / idle.p50).toFixed(1)}x p50` : "", target: `p99 ≤ ${ms(readyTargetMs)}`, met: ready.p99 <= readyTargetMs,
          },
          { what: "sent / answered 201 / Ready / not Ready in time", value: `${outcomes.length} / ${outcomes.length - errors.length} / ${readyTimes.length} / ${notReady}` },
          { what: "offered rate (sending took)", value: `${perSecond(outcomes.length / sendSeconds)} (${sendSeconds.toFixed(1)} s)` },
        ],
        notes: [
          "Open loop: create i is sent at t0 + i/50 s whatever the answers (a late timer sends at once, its lateness counted); 16 accounts in turn, quota raised. Latencies start at the scheduled send.",
          `Ready is observed with one watch stream (GET /v1/projects/:id/watch, SSE) per project, opened when the create answers; the server pushes a change the moment it applies it (and re-reads every 2 s per open stream). Observation load: ${o.watches - observed.watches} streams, at most ${o.peakOpenWatches} open at once, ${o.watchEvents - observed.watchEvents} events received.`,
          `After the last send the run waited up to ${(drainMs / 1000).toFixed(0)} s for the rest (${drained.toFixed(0)} s used); a project not Ready by then (${bound} after the first send) counts as slower than every Ready one.`,
          ...(errors.length > 0 ? [`${errors.length} creates failed; first: ${errors[0]!.error}`] : []),
        ],
      }
    } finally {
      log("openloop: cleanup (namespaces of this run deleted from the apiservers)")
      await inst.stop()
    }
  },
}
