// One Fabric installation for one section: on the real engines a fresh database, a Kafka prefix
// of its own, `fabric rpc` and one `fabric daemon` per apiserver; embedded, one `fabric dev`
// process on a fresh data directory with simulated clusters. `stop` leaves the shared engines
// as it found them (database dropped, topics and groups deleted, namespaces deleted).
import { mkdtempSync, rmSync } from "node:fs"
import { performance } from "node:perf_hooks"
import { deleteKafkaRun } from "../tests/support/kafka-cleanup.ts"
import { freshDatabase } from "../tests/support/real-engines.ts"
import { FabricApi } from "./api.ts"
import { deleteAccountsNamespaces } from "./kube.ts"
import { freePort, spawnFabric, waitForLog, type FabricChild } from "./processes.ts"
import type { BenchSettings } from "./settings.ts"
import { sleep } from "./stats.ts"

export const operatorToken = "bench-operator-token-0123456789"

export interface ApiserverConfig {
  readonly id: string
  /** The daemon's credentials (what Fabric uses). */
  readonly daemonKubeconfig: string
  /** system:masters, for the benchmark's own counting and cleanup. */
  readonly adminKubeconfig: string
  /** The section wipes this apiserver itself: stop leaves its namespaces alone. */
  readonly wipedAfter?: boolean
}

export interface RealEngines {
  readonly databaseUrl: string
  readonly kafkaBrokers: string
  readonly apiservers: ReadonlyArray<ApiserverConfig>
}

/** The engines of `npm run infra:up`, from the environment `infra.sh env` exports. */
export const realEnginesFromEnv = (env: NodeJS.ProcessEnv): RealEngines => {
  const daemons = (env.FABRIC_KUBECONFIGS ?? "").split(",").filter(Boolean)
  const admins = (env.FABRIC_ADMIN_KUBECONFIGS ?? "").split(",").filter(Boolean)
  if (!env.DATABASE_URL || !env.KAFKA_BROKERS || daemons.length < 3 || admins.length !== daemons.length) {
    throw new Error("the real engines are not set up: `npm run infra:up` (the runner reads `infra.sh env` itself)")
  }
  return {
    databaseUrl: env.DATABASE_URL,
    kafkaBrokers: env.KAFKA_BROKERS,
    // infra.sh names each kubeconfig's context after its cluster (a, b, c): .../kube/<id>/daemon.kubeconfig
    apiservers: daemons.map((path, i) => ({ id: /\/kube\/([^/]+)\//.exec(path)?.[1] ?? `c${i}`, daemonKubeconfig: path, adminKubeconfig: admins[i]! })),
  }
}

export interface Installation {
  readonly kind: "real" | "embedded"
  readonly api: FabricApi
  /** The clusters whose Ready makes a project Ready. */
  readonly clusterIds: ReadonlyArray<string>
  /** The process serving the API: `fabric rpc`, or `fabric dev` embedded. */
  readonly server: () => FabricChild
  readonly daemons: Map<string, FabricChild>
  /** Real engines only. */
  readonly databaseUrl?: string
  readonly kafkaPrefix?: string
  /** Kills (or stops) the server and starts it again on the same data (`env` overrides settings); resolves with the spawn moment. */
  readonly restartServer: (signal: "SIGKILL" | "SIGTERM", env?: Record<string, string>) => Promise<number>
  readonly startDaemon: (cluster: ApiserverConfig) => Promise<FabricChild>
  readonly stop: () => Promise<void>
}

const waitForReadyz = async (api: FabricApi, server: FabricChild, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await api.readyz()) return
    if (!server.alive()) throw new Error(`${server.name} exited (${server.child.exitCode ?? server.child.signalCode}) before /readyz answered:\n${server.tail()}`)
    await sleep(25)
  }
  throw new Error(`${server.name}: /readyz did not answer within ${timeoutMs} ms:\n${server.tail()}`)
}

export interface RealOptions {
  readonly name: string
  /** Apiservers whose daemons start with the installation. */
  readonly apiservers: ReadonlyArray<ApiserverConfig>
  readonly env?: Record<string, string>
  /** How long `stop` waits for the namespace controllers to finish deleting this run's namespaces (default 300 s). */
  readonly cleanupWaitMs?: number
}

export const startReal = async (settings: BenchSettings, engines: RealEngines, options: RealOptions): Promise<Installation> => {
  const database = await freshDatabase()
  const kafkaPrefix = `bench${Date.now().toString(36)}${process.pid}.`
  const port = await freePort()
  const env: Record<string, string> = {
    DATABASE_URL: database.url, KAFKA_BROKERS: engines.kafkaBrokers, FABRIC_KAFKA_PREFIX: kafkaPrefix,
    FABRIC_ADMIN_TOKEN: operatorToken, FABRIC_PROJECT_QUOTA: "100000", HOST: "127.0.0.1",
    ...options.env,
  }
  const api = new FabricApi(`http://127.0.0.1:${port}`, operatorToken)
  const startRpc = async (override: Record<string, string> = {}) => {
    const rpc = spawnFabric(settings.tree, ["rpc"], { ...env, ...override, PORT: String(port) }, { name: `${options.name}-rpc`, logDir: settings.logDir })
    await waitForReadyz(api, rpc, 120_000)
    return rpc
  }
  let rpc: FabricChild | undefined
  const daemons = new Map<string, FabricChild>()
  const used = new Map<string, ApiserverConfig>()
  const startDaemon = async (cluster: ApiserverConfig) => {
    used.set(cluster.id, cluster)
    const daemon = spawnFabric(settings.tree, ["daemon", "--cluster", cluster.id, "--kubeconfig", cluster.daemonKubeconfig], { ...env, PORT: "0" },
      { name: `${options.name}-daemon-${cluster.id}`, logDir: settings.logDir })
    daemons.set(cluster.id, daemon)
    await waitForLog(daemon, /Fabric daemon for cluster \S+ is running/, 120_000)
    return daemon
  }
  let stopping: Promise<void> | undefined
  const stop = () => stopping ??= (async () => {
    for (const d of daemons.values()) await d.stop()
    await rpc?.stop()
    await Promise.all([...used.values()].filter((c) => !c.wipedAfter).map(async (cluster) => {
      const r = await deleteAccountsNamespaces(cluster.adminKubeconfig, api.accounts, options.cleanupWaitMs ?? 300_000).catch((e) => ({ error: String(e) }))
      if ("error" in r || r.left > 0) console.error(`cleanup of apiserver ${cluster.id}: ${JSON.stringify(r)} (left: still being deleted by its namespace controller)`)
    }))
    await database.drop().catch((e) => console.error(`dropping the database: ${e}`))
    await deleteKafkaRun([engines.kafkaBrokers], kafkaPrefix).catch((e) => console.error(`deleting Kafka topics: ${e}`))
  })()
  try {
    rpc = await startRpc()
    for (const cluster of options.apiservers) await startDaemon(cluster)
    await api.waitForActiveClusters(options.apiservers.map((c) => c.id), 120_000)
  } catch (e) {
    await stop()
    throw e
  }
  return {
    kind: "real", api, daemons, databaseUrl: database.url, kafkaPrefix,
    clusterIds: options.apiservers.map((c) => c.id),
    server: () => rpc!,
    restartServer: async (signal, override) => {
      if (signal === "SIGKILL") rpc!.signal("SIGKILL")
      else await rpc!.stop()
      await rpc!.exited
      const spawnedAt = performance.now()
      rpc = await startRpc(override)
      return spawnedAt
    },
    startDaemon, stop,
  }
}

export interface EmbeddedOptions {
  readonly name: string
  readonly clusters: ReadonlyArray<string>
  readonly env?: Record<string, string>
  readonly startTimeoutMs?: number
}

export const startEmbedded = async (settings: BenchSettings, options: EmbeddedOptions): Promise<Installation> => {
  const dataDir = mkdtempSync("/tmp/fabric-bench-data-")
  const port = await freePort()
  const env: Record<string, string> = {
    // The real engines' settings may be exported in this shell: the embedded default has none.
    DATABASE_URL: "", KAFKA_BROKERS: "", FABRIC_KUBECONFIGS: "",
    FABRIC_DATA_DIR: dataDir, FABRIC_CLUSTERS: options.clusters.join(","), FABRIC_ADMIN_TOKEN: operatorToken,
    FABRIC_PROJECT_QUOTA: "100000", PORT: String(port), HOST: "127.0.0.1",
    ...options.env,
  }
  const api = new FabricApi(`http://127.0.0.1:${port}`, operatorToken)
  const timeout = options.startTimeoutMs ?? 120_000
  const startDev = async (override: Record<string, string> = {}) => {
    const dev = spawnFabric(settings.tree, ["dev"], { ...env, ...override }, { name: `${options.name}-dev`, logDir: settings.logDir })
    await waitForReadyz(api, dev, timeout)
    return dev
  }
  let dev: FabricChild | undefined
  let stopping: Promise<void> | undefined
  const stop = () => stopping ??= (async () => {
    await dev?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })()
  try {
    dev = await startDev()
    await api.waitForActiveClusters(options.clusters, timeout)
  } catch (e) {
    await stop()
    throw e
  }
  return {
    kind: "embedded", api, daemons: new Map(), clusterIds: options.clusters,
    server: () => dev!,
    restartServer: async (signal, override) => {
      if (signal === "SIGKILL") dev!.signal("SIGKILL")
      else await dev!.stop()
      await dev!.exited
      const spawnedAt = performance.now()
      dev = await startDev(override)
      return spawnedAt
    },
    startDaemon: () => Promise.reject(new Error("embedded: clusters are simulated inside `fabric dev`")),
    stop,
  }
}

/** The installation a section asks for, on the engines of this run. */
export const startInstallation = (settings: BenchSettings, engines: RealEngines | undefined, name: string, withClusters: boolean, env?: Record<string, string>, cleanupWaitMs?: number) =>
  settings.embedded || engines === undefined
    ? startEmbedded(settings, { name, clusters: ["sim-a", "sim-b", "sim-c"], env })
    : startReal(settings, engines, { name, apiservers: withClusters ? engines.apiservers.slice(0, 3) : [], env, cleanupWaitMs })
