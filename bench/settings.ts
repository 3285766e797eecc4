// What one `npm run bench` run measures: flags (or their environment twins), parsed once.
//
//   --only create,openloop     BENCH_ONLY         sections to run (default: all)
//   --embedded                 BENCH_EMBEDDED=1   the embedded default (`fabric dev`) instead of the real engines
//   --quick | --scale 0.1      BENCH_SCALE        multiplies every count and duration (quick look: 0.1)
//   --tree /path               FABRIC_BENCH_TREE  the Fabric checkout whose processes are measured (default: this repo)
//   --label before             BENCH_LABEL        the heading of BENCHMARKS.md this run writes (default: current)
//   --no-write                                    print only, leave BENCHMARKS.md alone
import { existsSync, mkdirSync } from "node:fs"
import { resolve } from "node:path"

export const sectionNames = ["create", "openloop", "deletions", "backfill", "fleet", "scale"] as const
export type SectionName = (typeof sectionNames)[number]

export interface BenchSettings {
  /** The Fabric tree whose `src/bin/fabric.ts` runs (its own node_modules). */
  readonly tree: string
  readonly only: ReadonlySet<SectionName>
  readonly embedded: boolean
  readonly scale: number
  readonly label: string
  readonly write: boolean
  /** Every process's log lands here, one file each. */
  readonly logDir: string
}

const repoRoot = new URL("..", import.meta.url).pathname

export const parseSettings = (argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv): BenchSettings => {
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith("--")) throw new Error(`unexpected argument ${arg}`)
    const [name, inline] = arg.slice(2).split("=", 2) as [string, string | undefined]
    const takesValue = ["only", "scale", "tree", "label"].includes(name)
    flags.set(name, takesValue ? (inline ?? argv[++i] ?? "") : "1")
  }
  const pick = (flag: string, variable: string) => flags.get(flag) ?? env[variable]

  const onlyRaw = pick("only", "BENCH_ONLY")
  const only = new Set<SectionName>()
  for (const name of (onlyRaw ?? sectionNames.join(",")).split(",").map((s) => s.trim()).filter(Boolean)) {
    if (!(sectionNames as ReadonlyArray<string>).includes(name)) throw new Error(`--only ${name}: sections are ${sectionNames.join(", ")}`)
    only.add(name as SectionName)
  }
  const scale = flags.has("quick") ? 0.1 : Number(pick("scale", "BENCH_SCALE") ?? 1)
  if (!(scale > 0 && scale <= 10)) throw new Error(`--scale ${scale}: a number above 0, at most 10`)
  const tree = resolve(pick("tree", "FABRIC_BENCH_TREE") ?? repoRoot)
  if (!existsSync(`${tree}/src/bin/fabric.ts`)) throw new Error(`${tree} is not a Fabric tree (no src/bin/fabric.ts)`)
  if (!existsSync(`${tree}/node_modules`)) throw new Error(`${tree} has no node_modules: run npm ci there`)
  const label = pick("label", "BENCH_LABEL") ?? "current"
  if (!/^[a-z0-9-]{1,40}$/.test(label)) throw new Error(`--label ${label}: lower-case letters, digits and '-'`)
  const logDir = `/tmp/fabric-bench-${new Date().toISOString().replace(/[:.]/g, "-")}`
  mkdirSync(logDir, { recursive: true })
  return {
    tree, only, scale, label, logDir,
    embedded: flags.has("embedded") || env.BENCH_EMBEDDED === "1",
    write: !flags.has("no-write"),
  }
}

/** A count scaled for this run, never below `min`. */
export const scaled = (settings: BenchSettings, count: number, min = 1) => Math.max(min, Math.round(count * settings.scale))
