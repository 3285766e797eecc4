// Crash safety: the process is killed (SIGKILL) between two durable steps, then restarted on the
// same data directory. Every project converges and nothing is duplicated: one legacy account and
// project, one namespace per cluster (the same one, never re-created), every outbox row sent.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import * as pglite from "../../adapters/embedded/pglite.ts"
import { Database } from "../../adapters/postgres/database.ts"
import { readSimulatedNamespaces, simulatedClusterFile } from "../../src/processes/persistent-cluster-state.ts"
import { crashPoints } from "../../src/services/crash-points.ts"
import { expectOk, fabricClient } from "../../rpc/client.ts"
import { startFabricProcess } from "../support/fabric-process.ts"
import { withIdempotencyKey } from "../support/typed-api.ts"
import { waitFor } from "../support/wait-for.ts"

const token = "crash-test-operator-token-0123"
const clusters = ["sim-a", "sim-b", "sim-c"]
const crash = suite("crash safety")

const createAccount = (url: string) =>
  fabricClient(url, token).v1.accounts.$post({ json: { name: "Crash Co", email: "crash@example.test" } }, withIdempotencyKey("crash-account"))

const queryData = async (dataDir: string, text: string) =>
  Effect.runPromise(Effect.scoped(Database.use(({ pool }) => Effect.promise(() => pool.unsafe(text))).pipe(Effect.provide(pglite.layer({ dataDir: join(dataDir, "db") })))))

for (const point of crashPoints) {
  crash(`killed at ${point}: converges after a restart, nothing duplicated`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "fabric-crash-"))
    // The embedded default, even when the runner exported the real engines' settings (npm test).
    const env = {
      FABRIC_DATA_DIR: dataDir, FABRIC_ADMIN_TOKEN: token, FABRIC_CLUSTERS: clusters.join(","),
      DATABASE_URL: "", KAFKA_BROKERS: "", FABRIC_KUBECONFIGS: "",
    }
    try {
      const first = await startFabricProcess(env, 60_000, [point], "tests/support/fabric-dev-crashing.ts")
      // The answer may be lost if the kill lands during the request; the client then retries.
      await createAccount(first.url).catch(() => undefined)
      const death = await Promise.race([first.exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))])
      if (death === null) await first.stop()
      assert.equal(death, { code: null, signal: "SIGKILL" }, `the crash point was not reached:\n${first.output()}`)
      const namespacesBefore = new Map(clusters.map((c) => [c, readSimulatedNamespaces(simulatedClusterFile(dataDir, c))]))

      const second = await startFabricProcess(env)
      try {
        const retried = await createAccount(second.url)
        assert.is(retried.status, 201)
        const { project: created } = await expectOk(retried)
        const namespace = created.namespace
        let last: unknown
        await waitFor(() => `the project to be Ready after the restart (last seen: ${JSON.stringify(last)})`, async () => {
          const { project } = await expectOk(fabricClient(second.url, token).v1.projects[":projectId"].$get({ param: { projectId: created.id } }))
          last = project
          return project.phase === "Ready" ? project : undefined
        }, 30_000, 100)
        for (const c of clusters) {
          const namespaces = readSimulatedNamespaces(simulatedClusterFile(dataDir, c))
          assert.equal(namespaces.map((n) => n.name), [namespace], `${c} holds exactly the project's namespace`)
          // A namespace created before the kill is the one that stays (ensure is idempotent).
          const before = namespacesBefore.get(c)!.find((n) => n.name === namespace)
          if (before) assert.is(namespaces[0]!.uid, before.uid, `${c}: namespace re-created`)
        }
      } finally {
        await second.stop()
      }
      const [rows] = await queryData(dataDir, `select
        (select count(*)::int from demeter.accounts) as accounts, (select count(*)::int from demeter.users) as users,
        (select count(*)::int from demeter.projects) as projects, (select count(*)::int from demeter.audit_log) as audit,
        (select count(*)::int from fabric.projects) as fabric_projects, (select count(*)::int from fabric.project_clusters) as statuses,
        (select count(*)::int from fabric.outbox) as outbox, (select count(*)::int from fabric.outbox where sent_at is null) as unsent`)
      assert.equal({ ...rows }, { accounts: 1, users: 1, projects: 1, audit: 2, fabric_projects: 1, statuses: 3, outbox: 1, unsent: 0 })
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
}

crash.run()
