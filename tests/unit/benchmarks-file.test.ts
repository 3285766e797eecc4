// BENCHMARKS.md as `npm run bench` rewrites it: one run replaces its own label's block and keeps
// every other block, and the summary people wrote above the blocks, as they were.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { mergeIntoBenchmarks } from "../../bench/report.ts"

const dir = mkdtempSync(join(tmpdir(), "benchmarks-file-"))
const path = join(dir, "BENCHMARKS.md")

test.after(() => rmSync(dir, { recursive: true, force: true }))

test("a new file starts with the preface and holds the one block", () => {
  mergeIntoBenchmarks(join(dir, "new.md"), "before", "## Before\n\nfigures of the old tree\n")
  const text = readFileSync(join(dir, "new.md"), "utf8")
  assert.ok(text.startsWith("# Benchmarks\n"))
  assert.match(text, /<!-- bench:before -->\n## Before\n\nfigures of the old tree\n<!-- bench:\/before -->\n$/)
})

test("a run replaces its own block and keeps the summary and the other blocks", () => {
  const written = [
    "# Benchmarks",
    "",
    "## Summary (written by hand)",
    "",
    "| target | before | after |",
    "",
    "<!-- bench:after -->",
    "old after figures",
    "<!-- bench:/after -->",
    "",
    "<!-- bench:before -->",
    "before figures",
    "<!-- bench:/before -->",
    "",
  ].join("\n")
  writeFileSync(path, written)
  mergeIntoBenchmarks(path, "after", "new after figures\n")
  const text = readFileSync(path, "utf8")
  assert.is(text, written.replace("old after figures", "new after figures"))
  mergeIntoBenchmarks(path, "quiet", "quiet figures\n")
  const again = readFileSync(path, "utf8")
  assert.ok(again.startsWith("# Benchmarks\n\n## Summary (written by hand)\n\n| target | before | after |\n\n<!-- bench:after -->"))
  assert.ok(again.includes("before figures"))
  assert.ok(again.endsWith("<!-- bench:quiet -->\nquiet figures\n<!-- bench:/quiet -->\n"))
})

test.run()
