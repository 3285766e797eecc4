// Benchmarks (never tests): Fabric's throughput and fleet scale, each figure beside a baseline
// measured in the same run, with the team's targets printed as met or missed. Each section is a
// module of its own; this runner picks them, runs them one after another (each on a fresh
// installation of the measured tree), prints the report and writes BENCHMARKS.md.
//
//   npm run bench                                   every section on the real engines (about 30 min)
//   npm run bench -- --only create,openloop         a subset (create openloop deletions backfill fleet scale)
//   npm run bench -- --quick                        counts and durations x0.1 (--scale 0.3 for other factors)
//   npm run bench -- --embedded                     the embedded default (`fabric dev`) instead of the real engines
//   npm run bench -- --tree /tmp/fabric-before --label before    another checkout, written as its own block
import { execFileSync, spawnSync } from "node:child_process"
import { cpus, loadavg } from "node:os"
import { performance } from "node:perf_hooks"
import { afterDeletions } from "./after-deletions.ts"
import { backfill } from "./backfill.ts"
import { createThroughput } from "./create-throughput.ts"
import { fleetSize } from "./fleet-size.ts"
import { realEnginesFromEnv, type RealEngines } from "./installation.ts"
import { openLoopReady } from "./open-loop.ts"
import { mergeIntoBenchmarks, renderRun, renderSection, type SectionResult } from "./report.ts"
import { scaleAndRestart } from "./scale.ts"
import type { Section, SectionContext } from "./section.ts"
import { parseSettings } from "./settings.ts"

// In the report's order (1 to 6); they run in another: the open loop last, because the namespace
// controllers go on deleting its thousands of namespaces long after it ends.
const sections: ReadonlyArray<Section> = [createThroughput, openLoopReady, afterDeletions, backfill, fleetSize, scaleAndRestart]
const runOrder: ReadonlyArray<Section> = [createThroughput, afterDeletions, scaleAndRestart, backfill, fleetSize, openLoopReady]

const repo = new URL("..", import.meta.url).pathname
const settings = parseSettings(process.argv.slice(2), process.env)

// The engines' settings come from `infra.sh env` unless this shell exported them already.
const loadEngines = (): RealEngines => {
  if (process.env.KAFKA_BROKERS === undefined) {
    const env = spawnSync("bash", ["deploy/infra/infra.sh", "env"], { cwd: repo, encoding: "utf8" })
    if (env.status !== 0) throw new Error(`infra.sh env failed (start the engines with npm run infra:up):\n${env.stderr}`)
    for (const m of env.stdout.matchAll(/^export ([A-Z0-9_]+)='([^']*)'$/gm)) process.env[m[1]!] = m[2]!
  }
  return realEnginesFromEnv(process.env)
}

const needsEngines = !settings.embedded || settings.only.has("backfill")
const engines = needsEngines ? loadEngines() : undefined
const commit = (() => {
  try {
    const hash = execFileSync("git", ["-C", settings.tree, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim()
    const dirty = execFileSync("git", ["-C", settings.tree, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim() !== ""
    return dirty ? `${hash}+uncommitted` : hash
  } catch {
    return "unknown"
  }
})()

const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`)
const ctx: SectionContext = { settings, engines, shared: {}, log }
log(`tree ${settings.tree} (${commit}), ${settings.embedded ? "embedded" : "real engines"}, scale ${settings.scale}, sections ${[...settings.only].join(",")}; logs in ${settings.logDir}`)

const t0 = performance.now()
const results = new Map<Section, SectionResult>()
for (const section of runOrder) {
  if (!settings.only.has(section.name)) continue
  const started = performance.now()
  const loadBefore = loadavg()[0]!
  log(`section ${section.name}`)
  let result: SectionResult
  try {
    result = await section.run(ctx)
  } catch (e) {
    // A section that fails says so in the report; the others still run.
    result = { title: `${section.name}: FAILED`, figures: [], notes: [`The section failed: ${String((e as Error)?.stack ?? e).split("\n").slice(0, 12).join(" / ")}`] }
  }
  // The machine is shared: its load says how far to trust the absolute figures (the ratios less so).
  result = { ...result, notes: [...result.notes, `Section time: ${((performance.now() - started) / 1000).toFixed(0)} s; 1-minute load average ${loadBefore.toFixed(1)} at its start, ${loadavg()[0]!.toFixed(1)} at its end (${cpus().length} cores, shared with whatever else runs).`] }
  results.set(section, result)
  console.log(renderSection(result))
}

const block = renderRun({
  label: settings.label, date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC", tree: settings.tree, commit,
  mode: settings.embedded ? "embedded default (`fabric dev`: PGlite, embedded event log, simulated clusters)" : "real engines (Postgres 15, Kafka, kube-apiservers of `npm run infra:up`)",
  scale: settings.scale, seconds: (performance.now() - t0) / 1000, cpus: cpus().length,
}, sections.flatMap((s) => results.get(s) ?? []))
if (settings.write) {
  mergeIntoBenchmarks(`${repo}/BENCHMARKS.md`, settings.label, block)
  log(`BENCHMARKS.md: block "${settings.label}" written`)
}
log(`done in ${((performance.now() - t0) / 60_000).toFixed(1)} min; process logs in ${settings.logDir}`)
