// Section 3: a create sent right after 100 deletions were accepted: its time to Ready in every
// cluster, against the idle time to Ready measured in the same run on the same installation.
import { performance } from "node:perf_hooks"
import { readyEverywhere } from "./api.ts"
import { startInstallation } from "./installation.ts"
import { closedLoop } from "./load.ts"
import { createAndAwaitReady, idleReady } from "./open-loop.ts"
import type { SectionResult } from "./report.ts"
import type { Section } from "./section.ts"
import { scaled } from "./settings.ts"
import { ms } from "./stats.ts"

const targetFactor = 2

export const afterDeletions: Section = {
  name: "deletions",
  run: async (ctx): Promise<SectionResult> => {
    const { settings, log } = ctx
    const count = scaled(settings, 100, 10)
    const boundMs = 240_000
    const inst = await startInstallation(settings, ctx.engines, "deletions", true)
    try {
      const { accountId } = await inst.api.createAccount("d")
      log(`deletions: ${count} projects created and Ready`)
      const victims: string[] = []
      await closedLoop(16, count, async (i) => {
        const p = await inst.api.createProjectOrThrow(accountId, `victim${i}`)
        victims.push(p.id)
        if (!(await inst.api.watchUntil(p.id, readyEverywhere(inst.clusterIds), boundMs))) throw new Error(`${p.id} not Ready`)
      })
      if (victims.length < count) throw new Error(`only ${victims.length} of ${count} projects were created`)
      log("deletions: idle time to Ready (5 creates one after another)")
      await idleReady(inst, accountId, 2, "w")
      const idle = (await idleReady(inst, accountId, 5, "i")).ready

      log(`deletions: ${count} DELETEs, then one create`)
      const deletesStarted = performance.now()
      await closedLoop(16, victims.length, async (i) => { await inst.api.deleteProject(victims[i]!) })
      const deletesAccepted = (performance.now() - deletesStarted) / 1000
      const gone = victims.map((id) => inst.api.watchUntil(id, (p) => p.phase === "Deleted", boundMs).then((r) => r && r.at - deletesStarted))
      const sentAt = performance.now()
      const after = await createAndAwaitReady(inst, accountId, "after", sentAt, sentAt + boundMs)
      const deletedTimes = await Promise.all(gone)
      const allDeleted = deletedTimes.every((t) => t !== undefined) ? Math.max(...(deletedTimes as number[])) : undefined

      const ratio = after.readyMs === undefined ? Number.POSITIVE_INFINITY : after.readyMs / idle.p50
      return {
        title: `3. A create right after ${count} deletions`,
        figures: [
          {
            what: `time to Ready of a create sent right after ${count} DELETEs were accepted`, value: after.readyMs === undefined ? `> ${ms(boundMs)} (${after.error ?? "not Ready"})` : ms(after.readyMs),
            baseline: `${ms(idle.p50)} (idle p50; p99 ${ms(idle.p99)})`, ratio: Number.isFinite(ratio) ? `${ratio.toFixed(1)}x` : "n/a", target: `≤ ${targetFactor}x`, met: ratio <= targetFactor,
          },
          { what: `all ${count} deletions Deleted (namespaces really gone) after`, value: allDeleted === undefined ? `> ${ms(boundMs)}` : ms(allDeleted) },
        ],
        notes: [
          `${inst.kind === "real" ? "`fabric rpc` + 3 `fabric daemon` on the real apiservers (the namespace controller finishes each deletion)" : "`fabric dev`, 3 simulated clusters"}. ${count} projects created and Ready first; the idle baseline is 5 creates one after another on the same installation (after 2 warm-up creates).`,
          `The ${count} DELETEs went out over 16 clients (all accepted in ${deletesAccepted.toFixed(1)} s); the create was sent as soon as the last was accepted. Ready and Deleted are observed with watch streams (SSE), ${count + 1} of them open during the measurement.`,
        ],
      }
    } finally {
      await inst.stop()
    }
  },
}
