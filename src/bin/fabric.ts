#!/usr/bin/env node
// The `fabric` command: process entrypoints (dev | rpc | daemon | migrate) and the CLI.
import { parseConfig, ConfigError } from "../processes/config.ts"
import { makeDevProcess } from "../processes/dev.ts"
import { loadOrCreateOperatorToken, operatorTokenFile } from "../processes/operator-token.ts"
import { runMain } from "../processes/run-main.ts"
import { existsSync } from "node:fs"
import { describeConnectError, openPostgres } from "../../adapters/postgres/connection.ts"
import { migrate } from "../../adapters/postgres/migrate.ts"
import type { KubeconfigSource } from "../../adapters/kubernetes/kubeconfig.ts"
import { parseArgs } from "../cli/args.ts"
import { dns1123Rule, isDns1123Label } from "../domain/names.ts"
import { runCli } from "../cli/cli.ts"
import { makeDaemonProcess } from "../processes/daemon.ts"
import { makeRpcProcess } from "../processes/rpc.ts"

const [command, ...rest] = process.argv.slice(2)

const fail = (message: string): never => {
  console.error(`fabric: ${message}`)
  process.exit(2)
}

const config = (() => {
  try {
    return parseConfig(process.env)
  } catch (e) {
    return e instanceof ConfigError ? fail(e.message) : fail(String(e))
  }
})()

switch (command) {
  case "dev":
  case undefined: {
    const token = config.operatorToken ?? (config.databaseUrl === undefined ? loadOrCreateOperatorToken(config.dataDir) : fail("FABRIC_ADMIN_TOKEN is required when DATABASE_URL is set"))
    const { runtime, program, announce } = makeDevProcess(config, token)
    await runMain(runtime, program, config.shutdownDrainMs, announce)
    break
  }
  case "rpc": {
    if (!config.databaseUrl) fail("fabric rpc needs DATABASE_URL (a Postgres server)")
    if (!config.kafkaBrokers) fail("fabric rpc needs KAFKA_BROKERS")
    const token = config.operatorToken ?? fail("fabric rpc needs FABRIC_ADMIN_TOKEN")
    const { runtime, program } = makeRpcProcess(config, token)
    await runMain(runtime, program, config.shutdownDrainMs, ({ port }) => console.log(`Fabric rpc is running on http://${config.host}:${port}`))
    break
  }
  case "daemon": {
    const { flags } = parseArgs(rest)
    const clusterId = typeof flags.get("cluster") === "string" ? (flags.get("cluster") as string) : fail("fabric daemon needs --cluster <id>")
    if (!isDns1123Label(clusterId)) fail(`--cluster ${clusterId} is not a valid cluster id (${dns1123Rule})`)
    const kubeconfigFlag = flags.get("kubeconfig")
    const kubeconfig: KubeconfigSource = flags.has("in-cluster") ? { kind: "in-cluster" }
      : typeof kubeconfigFlag === "string" ? { kind: "file", path: kubeconfigFlag }
      : fail("fabric daemon needs --kubeconfig <file> or --in-cluster")
    if (kubeconfig.kind === "file" && !existsSync(kubeconfig.path)) fail(`--kubeconfig ${kubeconfig.path}: no such file`)
    if (!config.kafkaBrokers) fail("fabric daemon needs KAFKA_BROKERS")
    const metricsFlag = flags.get("metrics-port")
    const metricsPort = metricsFlag === undefined ? config.metricsPort
      : typeof metricsFlag === "string" && /^\d{1,5}$/.test(metricsFlag) && Number(metricsFlag) <= 65535 ? Number(metricsFlag)
      : fail("--metrics-port needs a port number from 0 to 65535")
    const { runtime, program } = makeDaemonProcess(config, clusterId, kubeconfig, { metricsPort })
    await runMain(runtime, program, config.shutdownDrainMs, ({ metricsUrl }) =>
      console.log(`Fabric daemon for cluster ${clusterId} is running${metricsUrl ? `; metrics on ${metricsUrl}` : ""}`))
    break
  }
  case "migrate": {
    if (!config.databaseUrl) fail("fabric migrate needs DATABASE_URL")
    const pool = openPostgres(config.databaseUrl!, { max: 1, onnotice: () => {} })
    try {
      const applied = await migrate(pool)
      console.log(applied.length === 0 ? "migrations: up to date" : `migrations applied: ${applied.join(", ")}`)
    } catch (e) {
      console.error(`fabric: migrate: ${describeConnectError(e)}`)
      process.exitCode = 1
    } finally {
      await pool.end()
    }
    break
  }
  default:
    process.exitCode = await runCli([command, ...rest], process.env, { port: config.port, operatorTokenFile: operatorTokenFile(config.dataDir) })
}
