// The crash-safety test's process: `fabric dev` as src/bin/fabric.ts runs it, with a crash hook
// that kills it at one crash point. The hook is provided here, not by the production entrypoint,
// so no setting of a deployed process can turn it on.
//
//   node tests/support/fabric-dev-crashing.ts <crash point>
import { Layer } from "effect"
import { parseConfig } from "../../src/processes/config.ts"
import { makeDevProcess } from "../../src/processes/dev.ts"
import { loadOrCreateOperatorToken } from "../../src/processes/operator-token.ts"
import { runMain } from "../../src/processes/run-main.ts"
import { CrashHook, crashPoints, type CrashPoint } from "../../src/services/crash-points.ts"

const crashAt = crashPoints.find((point) => point === process.argv[2])
if (crashAt === undefined) throw new Error(`usage: fabric-dev-crashing.ts <${crashPoints.join(" | ")}>`)

/** Dies at the crash point as abruptly as a power cut: SIGKILL, so no finalizer runs. */
const killAtCrashPoint = Layer.succeed(CrashHook, (point: CrashPoint) => {
  if (point !== crashAt) return
  console.error(JSON.stringify({ level: "warn", msg: "crash point reached: killing the process", point }))
  process.kill(process.pid, "SIGKILL")
})

const config = parseConfig(process.env)
const { runtime, program, announce } = makeDevProcess(config, config.operatorToken ?? loadOrCreateOperatorToken(config.dataDir), { overrides: killAtCrashPoint })
await runMain(runtime, program, config.shutdownDrainMs, announce)
