#!/usr/bin/env node
// The `fabric` command: process entrypoints (dev | rpc | daemon | migrate) and the CLI.
import { parseConfig, ConfigError } from "../config.ts"
import { Effect } from "effect"
import { makeAllInOne, planClusters } from "../processes/all-in-one.ts"
import { serveHttp } from "../processes/http.ts"
import { loadOrCreateOperatorToken } from "../processes/operator-token.ts"
import { runMain } from "../processes/run-main.ts"
import { runCli } from "../cli/cli.ts"

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
    const embedded = config.databaseUrl === undefined
    const token = config.operatorToken ?? (embedded ? loadOrCreateOperatorToken(config.dataDir) : fail("FABRIC_ADMIN_TOKEN is required when DATABASE_URL is set"))
    const clusters = planClusters(config)
    const { runtime, app, streams, start } = makeAllInOne(config, { operatorToken: token, clusters })
    const program = Effect.andThen(start, serveHttp(app.fetch, { port: config.port, host: config.host, streams }))
    await runMain(runtime, program, ({ port }) => {
      console.log([
        `Fabric is running on http://${config.host}:${port}`,
        `  mode:     ${embedded ? `embedded (data in ${config.dataDir})` : "real engines"}`,
        `  clusters: ${clusters.map((c) => c.id).join(", ")}`,
        config.operatorToken ? "  operator token: from FABRIC_ADMIN_TOKEN" : `  operator token: ${token}`,
        `  try: FABRIC_TOKEN=${config.operatorToken ? "$FABRIC_ADMIN_TOKEN" : token} npm run fabric -- account create --name Acme --email ops@acme.test`,
      ].join("\n"))
    })
    break
  }
  default:
    process.exitCode = await runCli([command, ...rest], process.env, config)
}
