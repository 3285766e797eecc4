// Test runner: each test file runs in its own Node process (uvu inside), so a suite that starts
// databases, brokers or kills child processes cannot leak into the next one. Prints the
// machine-readable closing line `N passed, N failed` that CI reads.
//
//   node tests/run.ts                  embedded suites (no external engines)
//   node tests/run.ts --real           also the *.real.test.ts suites, on the engines from `npm run infra:up`
//   node tests/run.ts --real --infra   first start the engines (deploy/infra/infra.sh up; idempotent)
//   node tests/run.ts <filter>         only files whose path contains <filter>
//   node tests/run.ts --stress[=N]     beside a CPU hog of N busy processes (default 4): the
//                                      suites must hold on a loaded machine (npm run test:stress)
import { spawn, spawnSync } from "node:child_process"
import { readdirSync, statSync } from "node:fs"
import { join, relative } from "node:path"

const root = new URL("..", import.meta.url).pathname
const args = process.argv.slice(2)
const real = args.includes("--real")
const filters = args.filter((a) => !a.startsWith("--"))
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 2)
const stressArg = args.find((a) => a === "--stress" || a.startsWith("--stress="))
const hogs = stressArg === undefined ? 0 : Number(stressArg.split("=")[1] ?? 4)

// The engines' settings come from `infra.sh env` (shell exports) unless already set.
if (args.includes("--infra")) {
  const up = spawnSync("bash", ["deploy/infra/infra.sh", "up"], { cwd: root, stdio: "inherit" })
  if (up.status !== 0) {
    console.log("0 passed, 1 failed")
    throw new Error("the real engines did not start (deploy/infra/infra.sh up); see the output above")
  }
}
if (real && process.env.KAFKA_BROKERS === undefined) {
  const env = spawnSync("bash", ["deploy/infra/infra.sh", "env"], { cwd: root, encoding: "utf8" })
  for (const m of env.stdout.matchAll(/^export ([A-Z0-9_]+)='([^']*)'$/gm)) process.env[m[1]!] = m[2]!
}

const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    if (name === "node_modules" || name.startsWith(".")) return []
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })

const files = ["tests", "rpc", "machines", "adapters", "src"]
  .flatMap((dir) => walk(join(root, dir)))
  .filter((f) => f.endsWith(".test.ts"))
  .filter((f) => real || !f.endsWith(".real.test.ts"))
  // Matched against the path inside the repository: a checkout's own path (/work/wt-fuzz) matches nothing.
  .filter((f) => filters.length === 0 || filters.some((needle) => relative(root, f).includes(needle)))
  .sort()

interface Outcome { file: string; total: number; passed: number; code: number | null; output: string }

// uvu prints "Total: N" and "Passed: N" (with colour codes) at the end of a file's run.
const count = (output: string, label: string): number => {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "")
  const match = new RegExp(`${label}:\\s+(\\d+)`).exec(plain)
  return match ? Number(match[1]) : 0
}

const runFile = (file: string): Promise<Outcome> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: "0", FABRIC_REAL: real ? "1" : "" },
      stdio: ["ignore", "pipe", "pipe"],
    })
    let output = ""
    child.stdout.on("data", (d) => (output += d))
    child.stderr.on("data", (d) => (output += d))
    // A failure bound for a file that hangs, far above the slowest file's run on a loaded machine.
    const timer = setTimeout(() => child.kill("SIGKILL"), Number(process.env.TEST_FILE_TIMEOUT_MS ?? 1_800_000))
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ file: relative(root, file), total: count(output, "Total"), passed: count(output, "Passed"), code, output })
    })
  })

// Busy loops at normal priority, started before the first file and killed after the last one.
const hog = Array.from({ length: hogs }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }))
const stopHog = () => hog.forEach((p) => p.kill("SIGKILL"))
process.once("exit", stopHog)
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => { stopHog(); process.exit(130) })
if (hogs > 0) console.log(`stress: ${hogs} busy processes beside the suites`)

const outcomes: Outcome[] = []
const queue = [...files]
const started = Date.now()
await Promise.all(
  Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const t0 = Date.now()
      const outcome = await runFile(file)
      outcomes.push(outcome)
      const failed = outcome.code !== 0 || outcome.passed < outcome.total || outcome.total === 0
      const secs = ((Date.now() - t0) / 1000).toFixed(1)
      console.log(`${failed ? "FAIL" : "ok  "} ${outcome.file} (${outcome.passed}/${outcome.total}, ${secs}s)`)
      if (failed || process.env.TEST_VERBOSE) console.log(outcome.output.replace(/^/gm, "    "))
    }
  }),
)

stopHog()

// A file that crashed before uvu's summary counts as one failure, never as zero tests.
const passed = outcomes.reduce((n, o) => n + o.passed, 0)
const failed = outcomes.reduce((n, o) => n + (o.code === 0 && o.total > 0 ? o.total - o.passed : Math.max(1, o.total - o.passed)), 0)
console.log(`\n${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)}s`)
console.log(`${passed} passed, ${failed} failed`)
process.exitCode = failed > 0 || files.length === 0 ? 1 : 0
