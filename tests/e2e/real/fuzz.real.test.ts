// schemathesis (deploy/infra/fuzz-venv.sh) against GET /openapi.json of `fabric rpc` on Postgres and
// Kafka: every check, a fixed seed, a bounded number of examples, as the operator and as an account
// key. Nothing may fail: no 5xx, every status, content type, header and body as the document says.
// Negative-only runs (every request invalid) must change no row of any table of the fabric and
// demeter schemas, and every write they send must be refused with a 4xx.
import { spawnSync, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import postgres from "postgres"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk, fabricClient } from "../../../rpc/client.ts"
import { startFabricProcess, type FabricProcess } from "../../support/fabric-process.ts"
import { freshDatabase, requireRealEngines, uniqueKafkaPrefix } from "../../support/real-engines.ts"

const root = new URL("../../..", import.meta.url).pathname
const token = "fuzz-operator-token-0123456789abcdef"
const seed = "20260901"
const maxExamples = process.env.FABRIC_FUZZ_EXAMPLES ?? "25"
const config = join(root, "tests/e2e/real/fuzz.schemathesis.toml")

interface Ctx {
  rpc: FabricProcess
  databaseUrl: string
  dropDatabase: () => Promise<void>
  st: string
  work: string
  account: { id: string; projectId: string; apiKey: string }
}

const fuzz = suite<Ctx>("schemathesis against /openapi.json on the real engines")

fuzz.before(async (ctx) => {
  const { kafkaBrokers } = requireRealEngines()
  // Builds the virtualenv on first use (cached under ~/.cache/fabric-infra), prints the `st` path.
  const venv = spawnSync("bash", [join(root, "deploy/infra/fuzz-venv.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
  if (venv.status !== 0) throw new Error("deploy/infra/fuzz-venv.sh failed (see its output above)")
  ctx.st = venv.stdout.trim().split("\n").at(-1)!
  ctx.work = mkdtempSync(join(tmpdir(), "fabric-fuzz-"))
  const database = await freshDatabase()
  ctx.databaseUrl = database.url
  ctx.dropDatabase = database.drop
  ctx.rpc = await startFabricProcess({
    DATABASE_URL: database.url, KAFKA_BROKERS: kafkaBrokers, FABRIC_KAFKA_PREFIX: uniqueKafkaPrefix(),
    FABRIC_ADMIN_TOKEN: token, FABRIC_PARTITIONS: "1",
    // The fuzzer creates many projects (and resources) in one account: the quotas (a 422) are not what it tests.
    FABRIC_PROJECT_QUOTA: "100000", FABRIC_RESOURCE_QUOTA: "100000",
  }, 60_000, ["rpc"])
  const created = await expectOk(fabricClient(ctx.rpc.url, token).v1.accounts.$post({ json: { name: "Fuzz", email: "fuzz@probe.test" } }))
  ctx.account = { id: created.account.id, projectId: created.project.id, apiKey: created.apiKey! }
})

fuzz.after(async (ctx) => {
  await ctx.rpc?.stop()
  await ctx.dropDatabase?.()
  if (ctx.work) rmSync(ctx.work, { recursive: true, force: true })
})

/** Rows of every table of the fabric and demeter schemas (a new table is counted without editing this). */
const rowCounts = async (url: string): Promise<Record<string, number>> => {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    const tables = await sql<Array<{ schema: string; name: string }>>`
      select table_schema as schema, table_name as name from information_schema.tables
      where table_schema in ('fabric', 'demeter') and table_type = 'BASE TABLE' order by 1, 2`
    const counts: Record<string, number> = {}
    for (const { schema, name } of tables) {
      const quoted = (id: string) => `"${id.replaceAll('"', '""')}"`
      const [row] = await sql.unsafe(`select count(*)::int as n from ${quoted(schema)}.${quoted(name)}`)
      counts[`${schema}.${name}`] = row!.n as number
    }
    return counts
  } finally {
    await sql.end()
  }
}

interface Interaction { method: string; uri: string; status: number | undefined }
interface Run { output: string; code: number | null; tests: number; failures: number; errors: number; interactions: Interaction[] }

const runSchemathesis = async (ctx: Ctx, name: string, credential: string, mode: "all" | "negative", ownAccount: boolean): Promise<Run> => {
  const dir = join(ctx.work, name)
  // The key's positive run aims at its own account and project, so it reaches past the 404 of a
  // random id. Not the negative runs: a fixed id would replace the invalid one generated for it.
  const configFile = join(ctx.work, `${name}.toml`)
  writeFileSync(configFile, [
    ...(ownAccount ? ["[parameters]", `"path.accountId" = "${ctx.account.id}"`, `"path.projectId" = "${ctx.account.projectId}"`, ""] : []),
    readFileSync(config, "utf8"),
  ].join("\n"))
  const args = [
    "--config-file", configFile, "run", `${ctx.rpc.url}/openapi.json`,
    // Every check runs by default; `--checks all` would override the config's per-operation entries.
    // The stateful phase chains valid requests (create, then read and delete what was made), in
    // either mode: a negative-only run leaves it out, so that every request it sends is invalid.
    "--mode", mode, "--phases", mode === "negative" ? "examples,coverage,fuzzing" : "examples,coverage,fuzzing,stateful",
    "--seed", seed, "--max-examples", maxExamples, "--workers", "1", "--generation-database", "none",
    "--header", `Authorization: Bearer ${credential}`, "--request-timeout", "10",
    "--report", "junit,ndjson", "--report-dir", dir, "--report-junit-path", join(dir, "junit.xml"), "--report-ndjson-path", join(dir, "events.ndjson"),
    "--no-color",
  ]
  const child = spawn(ctx.st, args, { cwd: ctx.work, stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout.on("data", (d) => (output += d))
  child.stderr.on("data", (d) => (output += d))
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve))
  const junit = readdirSync(dir).includes("junit.xml") ? readFileSync(join(dir, "junit.xml"), "utf8") : ""
  const suiteTag = /<testsuite [^>]*>/.exec(junit)?.[0] ?? ""
  const attr = (key: string) => Number(new RegExp(`\\b${key}="(\\d+)"`).exec(suiteTag)?.[1] ?? NaN)
  const interactions: Interaction[] = []
  for (const line of readFileSync(join(dir, "events.ndjson"), "utf8").split("\n").filter(Boolean)) {
    const finished = (JSON.parse(line) as { ScenarioFinished?: { recorder?: { interactions?: Record<string, { request: { method: string; uri: string }; response?: { status_code: number } | null }> } } }).ScenarioFinished
    for (const i of Object.values(finished?.recorder?.interactions ?? {})) {
      interactions.push({ method: i.request.method, uri: i.request.uri, status: i.response?.status_code })
    }
  }
  return { output, code, tests: attr("tests"), failures: attr("failures"), errors: attr("errors"), interactions }
}

/** The summary and failures of schemathesis's output, for the assertion message. */
const report = (run: Run) => run.output.slice(run.output.search(/={5,} FAILURES|={5,} WARNINGS|={5,} SUMMARY/))

const expectClean = (run: Run) => {
  assert.ok(run.tests >= 15, `a test case per operation expected, got ${run.tests}:\n${run.output}`)
  assert.is(run.failures, 0, report(run))
  assert.is(run.errors, 0, report(run))
  assert.is(run.code, 0, report(run))
  assert.ok(run.interactions.length > 100, `only ${run.interactions.length} requests`)
  const serverErrors = run.interactions.filter((i) => i.status === undefined || i.status >= 500)
  assert.equal(serverErrors, [], "no request may fail or answer 5xx")
}

const writes = new Set(["POST", "PUT", "PATCH", "DELETE"])

/** A negative-only run: all rejected, nothing written anywhere. */
const expectNothingWritten = async (ctx: Ctx, name: string, credential: string) => {
  const before = await rowCounts(ctx.databaseUrl)
  assert.ok(Object.keys(before).length >= 10, `tables: ${Object.keys(before)}`)
  const run = await runSchemathesis(ctx, name, credential, "negative", false)
  expectClean(run)
  // Writes to the API are refused; a logout without a session is the visualiser's form (303), no write.
  const accepted = run.interactions.filter((i) => writes.has(i.method) && new URL(i.uri).pathname.startsWith("/v1/") && !(i.status! >= 400 && i.status! < 500))
  assert.equal(accepted, [], "every invalid write to /v1 is refused with a 4xx")
  assert.ok(run.interactions.filter((i) => writes.has(i.method)).length > 50)
  assert.equal(await rowCounts(ctx.databaseUrl), before, "no table changed")
}

fuzz("negative data as the operator: every check passes, every write is refused, no row of any table changes", async (ctx) => {
  await expectNothingWritten(ctx, "negative-operator", token)
})

fuzz("negative data with an account key: every check passes, every write is refused, no row of any table changes", async (ctx) => {
  await expectNothingWritten(ctx, "negative-key", ctx.account.apiKey)
})

fuzz("positive and negative data as the operator: every check passes (no 5xx, statuses, content types, headers and bodies as documented)", async (ctx) => {
  expectClean(await runSchemathesis(ctx, "all-operator", token, "all", false))
})

fuzz("positive and negative data with an account key on its own account: every check passes", async (ctx) => {
  const run = await runSchemathesis(ctx, "all-key", ctx.account.apiKey, "all", true)
  expectClean(run)
  // The key reached its own account (not only 404s for random ids).
  assert.ok(run.interactions.some((i) => i.uri.includes(`/v1/accounts/${ctx.account.id}/projects`) && i.status === 201), "no project created in its own account")
})

fuzz.run()
