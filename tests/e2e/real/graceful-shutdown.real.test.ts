// Graceful shutdown on the real engines: SIGTERM to `fabric rpc` with 50 creates in flight, then
// to `fabric daemon`. Every create is answered (201, or a clean 503 with Retry-After), both
// processes exit 0, and after a restart every 201 is listed and becomes Ready (the daemon
// committed what it finished and picks up the rest).
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { expectOk, fabricClient, FabricApiError } from "../../../rpc/client.ts"
import { deleteKafkaRun } from "../../support/kafka-cleanup.ts"
import { startFabricProcess } from "../../support/fabric-process.ts"
import { freshDatabase, requireRealEngines, uniqueKafkaPrefix } from "../../support/real-engines.ts"
import { bodyOrRefusal } from "../../support/typed-api.ts"
import { waitFor } from "../../support/wait-for.ts"

const token = "real-shutdown-operator-token-0123"
const shutdown = suite("graceful shutdown of fabric rpc and fabric daemon")
const exitWithin = (exited: Promise<unknown>, ms: number) => Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), ms).unref())])

shutdown("SIGTERM with 50 creates in flight: every one answered, exit 0, every 201 kept and Ready after a restart", async () => {
  const { kafkaBrokers } = requireRealEngines()
  const kubeconfig = (process.env.FABRIC_KUBECONFIGS ?? "").split(",").filter(Boolean)[0]
  const admin = (process.env.FABRIC_ADMIN_KUBECONFIGS ?? "").split(",").filter(Boolean)[0]
  if (!kubeconfig || !admin) throw new Error("FABRIC_KUBECONFIGS / FABRIC_ADMIN_KUBECONFIGS are not set: run `npm run infra:up`")
  const adminConfig = new KubeConfig()
  adminConfig.loadFromFile(admin)
  const clusterId = adminConfig.getCurrentContext()
  const apiserver = adminConfig.makeApiClient(CoreV1Api)
  const database = await freshDatabase()
  const prefix = uniqueKafkaPrefix()
  const env = {
    DATABASE_URL: database.url, KAFKA_BROKERS: kafkaBrokers, FABRIC_KAFKA_PREFIX: prefix, FABRIC_ADMIN_TOKEN: token,
    FABRIC_HEARTBEAT_SECONDS: "1", FABRIC_PARTITIONS: "3", FABRIC_PROJECT_QUOTA: "100", FABRIC_SHUTDOWN_DRAIN_SECONDS: "20",
  }
  const daemonArgs = ["daemon", "--cluster", clusterId, "--kubeconfig", kubeconfig]
  const namespaces: Array<string> = []
  try {
    const rpc = await startFabricProcess(env, 60_000, ["rpc"])
    const daemon = await startFabricProcess(env, 60_000, daemonArgs)
    const client = fabricClient(rpc.url, token)
    const account = await expectOk(client.v1.accounts.$post({ json: { name: "Drain Real", email: "drain@real.test" } }))
    const accountId = account.account.id
    namespaces.push(account.project.namespace)

    const creates = Array.from({ length: 50 }, (_, i) =>
      bodyOrRefusal(client.v1.accounts[":accountId"].projects.$post({ param: { accountId }, json: { name: `Real in flight ${i}` } })))
    const settled = Promise.allSettled(creates)
    await Promise.race(creates)
    rpc.child.kill("SIGTERM")
    const outcomes = await settled
    const dropped = outcomes.filter((o) => o.status === "rejected").map((o) => String((o as PromiseRejectedResult).reason))
    assert.equal(dropped, [], "requests without an answer")
    const answers = outcomes.map((o) => (o as PromiseFulfilledResult<Awaited<(typeof creates)[number]>>).value)
    for (const a of answers) {
      assert.ok(!(a instanceof FabricApiError) || (a.status === 503 && a.headers.get("retry-after") === "1"), `unexpected answer ${String(a)}`)
    }
    const created = answers.flatMap((a) => (a instanceof FabricApiError ? [] : [a.project]))
    namespaces.push(...created.map((p) => p.namespace))
    assert.ok(created.length > 0)
    assert.equal(await exitWithin(rpc.exited, 35_000), { code: 0, signal: null }, rpc.output())

    daemon.child.kill("SIGTERM")
    assert.equal(await exitWithin(daemon.exited, 35_000), { code: 0, signal: null }, daemon.output())
    assert.match(daemon.output(), /"msg":"shut down"/)

    const rpc2 = await startFabricProcess(env, 60_000, ["rpc"])
    const daemon2 = await startFabricProcess(env, 60_000, daemonArgs)
    try {
      const list = () => expectOk(fabricClient(rpc2.url, token).v1.accounts[":accountId"].projects.$get({ param: { accountId }, query: { limit: "100" } }))
      const ids = new Set<string>((await list()).projects.map((p) => p.id))
      for (const p of created) assert.ok(ids.has(p.id), `${p.id} answered 201 but is not listed`)
      assert.is(ids.size, created.length + 1, "a refused create was written")
      await waitFor("every created project Ready", async () => ((await list()).projects.every((p) => p.phase === "Ready") ? true : undefined), 90_000)
    } finally {
      await daemon2.stop()
      await rpc2.stop()
    }
  } finally {
    for (const name of namespaces) await apiserver.deleteNamespace({ name }).catch(() => undefined)
    await deleteKafkaRun(kafkaBrokers.split(","), prefix).catch(() => undefined)
    await database.drop()
  }
})

shutdown.run()
