// What a section hands back, and how the run becomes Markdown. BENCHMARKS.md keeps one block per
// label (`current`, `before`, ...), so measuring one tree never erases another tree's figures.
import { existsSync, readFileSync, writeFileSync } from "node:fs"

export interface Figure {
  readonly what: string
  readonly value: string
  readonly baseline?: string
  /** Fabric's figure over its baseline's, as the target states it. */
  readonly ratio?: string
  readonly target?: string
  /** undefined: no target, or nothing to judge (the figure could not be measured). */
  readonly met?: boolean
}

export interface SectionResult {
  readonly title: string
  readonly figures: ReadonlyArray<Figure>
  /** How it was measured, what the baseline is, anything odd that happened. */
  readonly notes: ReadonlyArray<string>
}

const verdict = (f: Figure) => (f.target === undefined ? "" : f.met === undefined ? "not judged" : f.met ? "met" : "MISSED")

export const renderSection = (s: SectionResult): string =>
  [
    `### ${s.title}`,
    "",
    "| figure | Fabric | baseline (same run) | ratio | target | |",
    "|---|---|---|---|---|---|",
    ...s.figures.map((f) => `| ${f.what} | ${f.value} | ${f.baseline ?? ""} | ${f.ratio ?? ""} | ${f.target ?? ""} | ${verdict(f)} |`),
    "",
    ...s.notes.map((n) => `- ${n}`),
    "",
  ].join("\n")

export interface RunHeader {
  readonly label: string
  readonly date: string
  readonly tree: string
  readonly commit: string
  readonly mode: string
  readonly scale: number
  readonly seconds: number
  readonly cpus: number
}

export const renderRun = (header: RunHeader, sections: ReadonlyArray<SectionResult>): string =>
  [
    `## ${header.label[0]!.toUpperCase()}${header.label.slice(1)}: ${header.commit} on ${header.date}`,
    "",
    `Tree \`${header.tree}\` at commit \`${header.commit}\`; ${header.mode}; scale ${header.scale}; the run took ${(header.seconds / 60).toFixed(1)} min on this machine (${header.cpus} cores).`,
    "",
    ...sections.map(renderSection),
  ].join("\n")

const preface = [
  "# Benchmarks",
  "",
  "Written by `npm run bench` (bench/run.ts; README, Benchmarks). Every figure stands beside a baseline",
  "measured in the same run on the same machine, so a ratio means something where an absolute",
  "number does not; the targets are what the team aims for, printed with whether each is met,",
  "never asserted. One block per label: `npm run bench -- --label before --tree <checkout>` replaces",
  "only the `before` block.",
  "",
].join("\n")

const marker = (label: string, end: boolean) => `<!-- bench:${end ? "/" : ""}${label} -->`

/**
 * BENCHMARKS.md with this label's block replaced (or added); other blocks are kept as they were,
 * and so is what people wrote above the first block (a summary that compares the runs).
 */
export const mergeIntoBenchmarks = (path: string, label: string, block: string) => {
  const old = existsSync(path) ? readFileSync(path, "utf8") : ""
  const found = [...old.matchAll(/<!-- bench:([a-z0-9-]+) -->\n([\s\S]*?)<!-- bench:\/\1 -->/g)]
  const blocks = new Map(found.map((m) => [m[1]!, m[2]!]))
  blocks.set(label, block.endsWith("\n") ? block : `${block}\n`)
  const head = old.slice(0, found[0]?.index ?? old.length).trimEnd() || preface.trimEnd()
  const order = [...blocks.keys()].sort((a, b) => (a === "current" ? -1 : b === "current" ? 1 : a.localeCompare(b)))
  writeFileSync(path, [`${head}\n`, ...order.map((l) => `${marker(l, false)}\n${blocks.get(l)}${marker(l, true)}\n`)].join("\n"))
}
