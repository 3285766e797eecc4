// What a real-engine suite with apiservers of its own uses: extra kube-apiservers started and
// stopped with deploy/infra/infra.sh (cluster-up/down, sharing the engines' etcd), their
// kubeconfigs, and `fabric` processes killed with SIGKILL and started again.
import { spawnSync } from "node:child_process"
import postgres from "postgres"
import { fabricClient, type FabricClient } from "../../rpc/client.ts"
import { startFabricProcess, type FabricProcess } from "./fabric-process.ts"
import { freshDatabase, requireRealEngines, uniqueKafkaPrefix } from "./real-engines.ts"

const repo = new URL("../..", import.meta.url).pathname

/** The engines' run directory (`infra.sh env`); the suite's before hook calls this first. */
export const requireInfraRun = (): string => {
  const run = process.env.FABRIC_INFRA_RUN
  if (!run) throw new Error("FABRIC_INFRA_RUN is not set: run `npm run infra:up`, then `eval \"$(npm run -s infra:env)\"`")
  return run
}

export const infra = (...args: string[]) => {
  const r = spawnSync("bash", ["deploy/infra/infra.sh", ...args], { cwd: repo, encoding: "utf8" })
  if (r.status !== 0) throw new Error(`infra.sh ${args.join(" ")} failed:\n${r.stderr}`)
}

export const kubeconfig = (id: string, who: "daemon" | "admin") => `${process.env.FABRIC_INFRA_RUN}/kube/${id}/${who}.kubeconfig`

/** `fabric daemon` for cluster `id`, with the daemon's own (RBAC-bound) kubeconfig. */
export const startDaemonProcess = (env: Record<string, string>, id: string) =>
  startFabricProcess(env, 60_000, ["daemon", "--cluster", id, "--kubeconfig", kubeconfig(id, "daemon")])

/** The processes of a fleet suite: `fabric rpc`, a daemon per cluster, and a client of the rpc. */
export interface FleetProcesses {
  env: Record<string, string>
  rpc: FabricProcess
  daemons: Map<string, FabricProcess>
  client: FabricClient
}

export const startDaemon = async (fleet: FleetProcesses, id: string) => {
  fleet.daemons.set(id, await startDaemonProcess(fleet.env, id))
}

export const restartRpc = async (fleet: FleetProcesses, operatorToken: string) => {
  await kill(fleet.rpc)
  fleet.rpc = await startFabricProcess(fleet.env, 60_000, ["rpc"])
  fleet.client = fabricClient(fleet.rpc.url, operatorToken)
}

export const kill = async (process: FabricProcess) => {
  process.child.kill("SIGKILL")
  await process.exited
}

/**
 * A fresh database and Kafka prefix for `fabric rpc` and its daemons, with the short intervals
 * these suites run at (heartbeat and drift every second, a cluster Unreachable after 5 s).
 */
export const fleetEngines = async (operatorToken: string) => {
  const { kafkaBrokers } = requireRealEngines()
  const database = await freshDatabase()
  const env: Record<string, string> = {
    DATABASE_URL: database.url, KAFKA_BROKERS: kafkaBrokers, FABRIC_KAFKA_PREFIX: uniqueKafkaPrefix(), FABRIC_ADMIN_TOKEN: operatorToken,
    FABRIC_PARTITIONS: "3", FABRIC_HEARTBEAT_SECONDS: "1", FABRIC_DRIFT_SECONDS: "1",
    FABRIC_UNREACHABLE_AFTER_SECONDS: "5", FABRIC_DELETION_DEADLINE_SECONDS: "600",
  }
  return { env, sql: postgres(database.url, { max: 1, onnotice: () => {} }), drop: database.drop }
}
