// Benchmarks (not tests): what an RPC call and a project's convergence cost on the embedded
// default, as ratios against baselines measured in the same run on the same database, so the
// figures mean something on any machine. Prints a table and writes BENCHMARKS.md.
//
//   npm run bench                 (BENCH_PROJECTS=200 to change the size of the memory run)
import { writeFileSync } from "node:fs"
import { performance } from "node:perf_hooks"
import { startFabric, type TestFabric } from "../tests/support/embedded-fabric.ts"

const projectsForMemory = Number(process.env.BENCH_PROJECTS ?? 200)
const rounds = 40

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
const summary = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b)
  return { median: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) }
}

const time = async (run: () => Promise<unknown>, times: number) => {
  const samples: number[] = []
  for (let i = 0; i < times; i++) {
    const t0 = performance.now()
    await run()
    samples.push(performance.now() - t0)
  }
  return summary(samples)
}

const must = <T extends { status: number; text: string }>(r: T, status: number): T => {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${r.text}`)
  return r
}

let emails = 0
const createAccount = async (fabric: TestFabric) =>
  must(await fabric.request("POST", "/v1/accounts", { body: { name: "Bench", email: `bench${++emails}@example.test` } }), 201).json

const megabytes = (bytes: number) => bytes / 1024 / 1024

const main = async () => {
  const fabric = await startFabric({ env: { FABRIC_PROJECT_QUOTA: "100000" } })
  try {
    // Baselines: one SQL round trip to the same database, and one HTTP request that touches nothing.
    const sqlRoundTrip = await time(() => fabric.sql("select 1"), rounds)
    const healthz = await time(() => fabric.request("GET", "/healthz", { token: null }), rounds)

    const account = await createAccount(fabric)
    const accountCreate = await time(() => createAccount(fabric), rounds)
    const projectCreate = await time(() => fabric.request("POST", `/v1/accounts/${account.account.id}/projects`, { body: { name: "p" } }).then((r) => must(r, 201)), rounds)
    const projectRead = await time(() => fabric.request("GET", `/v1/projects/${account.project.id}`).then((r) => must(r, 200)), rounds)

    // Convergence: from the create call to Ready in all three simulated clusters.
    const convergence = await time(async () => {
      const created = must(await fabric.request("POST", `/v1/accounts/${account.account.id}/projects`, { body: { name: "converge" } }), 201)
      await fabric.waitForProject(created.json.project.id, (p) => p.phase === "Ready", undefined, 60_000)
    }, 10)

    // Memory: actors are passivated, so resident memory should not grow with every project.
    globalThis.gc?.()
    const heapBefore = process.memoryUsage().heapUsed
    const t0 = performance.now()
    const ids: string[] = []
    for (let i = 0; i < projectsForMemory; i++) {
      ids.push(must(await fabric.request("POST", `/v1/accounts/${account.account.id}/projects`, { body: { name: `m${i}` } }), 201).json.project.id)
    }
    for (const id of ids) await fabric.waitForProject(id, (p) => p.phase === "Ready", undefined, 120_000)
    const batchSeconds = (performance.now() - t0) / 1000
    globalThis.gc?.()
    const heapAfter = process.memoryUsage().heapUsed

    const base = sqlRoundTrip.median
    const rows: Array<[string, number, number, string]> = [
      ["SQL `select 1` round trip (baseline)", sqlRoundTrip.median, sqlRoundTrip.p95, "1.0"],
      ["GET /healthz", healthz.median, healthz.p95, (healthz.median / base).toFixed(1)],
      ["GET /v1/projects/:id", projectRead.median, projectRead.p95, (projectRead.median / base).toFixed(1)],
      ["POST /v1/accounts (legacy rows + saga + default project)", accountCreate.median, accountCreate.p95, (accountCreate.median / base).toFixed(1)],
      ["POST /v1/accounts/:id/projects", projectCreate.median, projectCreate.p95, (projectCreate.median / base).toFixed(1)],
      ["create -> Ready in 3 clusters", convergence.median, convergence.p95, (convergence.median / base).toFixed(1)],
    ]
    const table = [
      "| what | median ms | p95 ms | median / baseline |",
      "|---|---|---|---|",
      ...rows.map(([what, median, p95, ratio]) => `| ${what} | ${median.toFixed(2)} | ${p95.toFixed(2)} | ${ratio} |`),
    ].join("\n")
    const memory = [
      `${projectsForMemory} projects created one after another and all Ready in 3 clusters in ${batchSeconds.toFixed(1)} s`,
      `(${(projectsForMemory / batchSeconds).toFixed(1)} projects/s, ${(batchSeconds * 1000 / projectsForMemory / base).toFixed(1)}x the baseline per project);`,
      `heap ${megabytes(heapBefore).toFixed(1)} MiB before, ${megabytes(heapAfter).toFixed(1)} MiB after`,
      `(${((heapAfter - heapBefore) / 1024 / projectsForMemory).toFixed(1)} KiB per project${globalThis.gc ? "" : "; run with --expose-gc for a settled heap"}).`,
    ].join(" ")
    const report = [
      "# Benchmarks",
      "",
      `\`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: embedded default (PGlite in memory, embedded event log, 3 simulated clusters), in process,`,
      `${rounds} rounds each. Ratios are against a \`select 1\` round trip on the same database in the same run.`,
      "",
      table,
      "",
      memory,
      "",
    ].join("\n")
    console.log(report)
    writeFileSync(new URL("../BENCHMARKS.md", import.meta.url), report)
  } finally {
    await fabric.stop()
  }
}

await main()
