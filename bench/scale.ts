// Section 6: the API process's resident memory at 1k and at 20k projects, and its restart at 20k:
// SIGKILL, start again, time to /readyz and to a new create being Ready in every cluster. The
// baselines are the same restart at the start of the run (a handful of projects) and the RSS at
// 1k. On the real engines the daemons are paused (SIGSTOP) while the projects are seeded and skip
// that backlog afterwards (kafka-offsets.ts), so the seeded projects are live in Fabric but have no
// namespaces; every create after that is handled as usual.
import { performance } from "node:perf_hooks"
import { startInstallation, type Installation } from "./installation.ts"
import { skipBacklogOfPausedGroups } from "./kafka-offsets.ts"
import { closedLoop } from "./load.ts"
import { createAndAwaitReady } from "./open-loop.ts"
import type { SectionResult } from "./report.ts"
import type { Section } from "./section.ts"
import { scaled } from "./settings.ts"
import { mebibytes, ms, sleep } from "./stats.ts"

const restartTargetMs = 10_000
const rssTargetFactor = 1.25 // "flat": within a quarter of the 1k figure

/** Kills the API process, starts it, and times /readyz and a fresh create's Ready from the spawn. */
const restartToReady = async (inst: Installation, accountId: string, tag: string, boundMs: number) => {
  const spawnedAt = await inst.restartServer("SIGKILL")
  const readyzMs = performance.now() - spawnedAt
  const deadline = spawnedAt + boundMs
  // The first create may meet a dependency that is still coming up (503): send it again.
  let attempts = 0
  while (performance.now() < deadline) {
    const sentAt = performance.now()
    const r = await createAndAwaitReady(inst, accountId, `${tag}${attempts++}`, sentAt, deadline)
    if (r.readyMs !== undefined) return { readyzMs, readyMs: sentAt + r.readyMs - spawnedAt, attempts }
    if (!r.error?.startsWith("503")) return { readyzMs, readyMs: undefined, error: r.error ?? "not Ready", attempts }
    await sleep(100)
  }
  return { readyzMs, readyMs: undefined, error: "bound passed", attempts }
}

const settle = async (inst: Installation) => {
  await sleep(5_000)
  return inst.server().rssKiB()
}

export const scaleAndRestart: Section = {
  name: "scale",
  run: async (ctx): Promise<SectionResult> => {
    const { settings, log } = ctx
    const small = scaled(settings, 1000, 100)
    const large = scaled(settings, 20_000, 500)
    const boundMs = 120_000
    // Paused daemons must not be declared Unreachable meanwhile (that would tell every project).
    const inst = await startInstallation(settings, ctx.engines, "scale", true, { FABRIC_UNREACHABLE_AFTER_SECONDS: "86400" })
    try {
      const accounts: string[] = []
      for (let a = 0; a < 16; a++) accounts.push((await inst.api.createAccount(`s${a}`)).accountId)
      const first = await createAndAwaitReady(inst, accounts[0]!, "first", performance.now(), performance.now() + boundMs)
      if (first.readyMs === undefined) throw new Error(`first create not Ready: ${first.error}`)
      log("scale: restart at the start (baseline)")
      const early = await restartToReady(inst, accounts[0]!, "early", boundMs)

      const paused = inst.kind === "real"
      if (paused) for (const d of inst.daemons.values()) d.signal("SIGSTOP")
      let created = accounts.length + 1 + early.attempts
      const seed = async (upTo: number) => {
        log(`scale: seeding to ${upTo} projects`)
        const r = await closedLoop(16, Math.max(0, upTo - created), async (i, client) => { await inst.api.createProjectOrThrow(accounts[client]!, `seed${created + i}`) })
        if (r.failures > 0) throw new Error(`seeding: ${r.failures} creates failed: ${r.firstFailure}`)
        created = upTo
        return r
      }
      const toSmall = await seed(small)
      const rssSmall = await settle(inst)
      const toLarge = await seed(large)
      const rssLarge = await settle(inst)
      let skipped: string[] = []
      if (paused) {
        log("scale: daemons skip the seeded backlog, then resume")
        skipped = await skipBacklogOfPausedGroups(ctx.engines!.kafkaBrokers, inst.kafkaPrefix!, 90_000)
        for (const d of inst.daemons.values()) d.signal("SIGCONT")
      }
      const warm = await createAndAwaitReady(inst, accounts[1]!, "warm", performance.now(), performance.now() + boundMs)
      if (warm.readyMs === undefined) throw new Error(`a create at ${large} projects was not Ready before the restart: ${warm.error}`)
      log(`scale: restart at ${large} projects`)
      const late = await restartToReady(inst, accounts[2]!, "late", boundMs)
      const rssAfter = await settle(inst)

      const rssRatio = rssLarge / rssSmall
      return {
        title: `6. Memory and restart at ${large} projects`,
        figures: [
          { what: `${inst.kind === "real" ? "rpc" : "dev"} RSS at ${large} projects`, value: mebibytes(rssLarge), baseline: `${mebibytes(rssSmall)} at ${small}`, ratio: `${rssRatio.toFixed(2)}x`, target: `flat (≤ ${rssTargetFactor}x)`, met: rssRatio <= rssTargetFactor },
          { what: `restart to /readyz / to a new create Ready, at ${large} projects`, value: `${ms(late.readyzMs)} / ${late.readyMs === undefined ? `> ${ms(boundMs)} (${late.error})` : ms(late.readyMs)}`, baseline: `${ms(early.readyzMs)} / ${early.readyMs === undefined ? "n/a" : ms(early.readyMs)} at ${accounts.length + 1} projects`, ratio: late.readyMs && early.readyMs ? `${(late.readyMs / early.readyMs).toFixed(1)}x` : "", target: `≤ ${ms(restartTargetMs)} to Ready`, met: late.readyMs !== undefined && late.readyMs <= restartTargetMs },
          { what: `time to Ready of a create at ${large} projects before the restart`, value: ms(warm.readyMs), baseline: `${ms(first.readyMs)} at the start` },
          { what: `RSS after the restart (${large} projects)`, value: mebibytes(rssAfter) },
          { what: "seeding creates/s (16 clients) to 1k / to 20k", value: `${(toSmall.latencies.length / toSmall.seconds).toFixed(1)} / ${(toLarge.latencies.length / toLarge.seconds).toFixed(1)}` },
        ],
        notes: [
          `RSS is VmRSS of the ${inst.kind === "real" ? "`fabric rpc`" : "`fabric dev`"} process from /proc, read 5 s after the last create of each step (no forced GC). Restart: SIGKILL, spawn the same command on the same ${inst.kind === "real" ? "database and Kafka prefix" : "data directory"}; /readyz polled every 25 ms; then one create (sent again on 503) awaited Ready in every cluster through its watch stream; both times from the spawn.`,
          paused
            ? `The 3 daemons (real apiservers a, b, c) were paused with SIGSTOP while ${large - accounts.length - 1} projects were seeded (FABRIC_UNREACHABLE_AFTER_SECONDS=86400, so no cluster went Unreachable); then their consumer groups (${skipped.join(", ")}) were moved to the end of fabric.projects and they resumed. The seeded projects stay Provisioning (no namespaces), as they would while a backfill is in progress; every other create went through the daemons as usual.`
            : `Embedded: the simulated clusters keep up with the seeding, so every seeded project is Ready.`,
        ],
      }
    } finally {
      await inst.stop()
    }
  },
}
