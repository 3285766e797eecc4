// Runs `fabric dev` as a real child process, so tests can kill it (SIGKILL) and restart it on
// the same data directory.
import { spawn, type ChildProcess } from "node:child_process"

const root = new URL("../..", import.meta.url).pathname

export interface FabricProcess {
  readonly url: string
  readonly child: ChildProcess
  readonly output: () => string
  /** Resolves with the signal or exit code once the process is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  readonly stop: () => Promise<void>
}

/**
 * Starts `fabric <args>` and resolves once it prints that it is running (with its URL, if any);
 * `entrypoint` runs another script instead of src/bin/fabric.ts (tests/support/fabric-dev-crashing.ts).
 */
export const startFabricProcess = async (env: Record<string, string>, timeoutMs = 60_000, args: ReadonlyArray<string> = ["dev"], entrypoint = "src/bin/fabric.ts"): Promise<FabricProcess> => {
  const child = spawn(process.execPath, [entrypoint, ...args], {
    cwd: root, env: { ...process.env, PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"],
  })
  let output = ""
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fabric did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs)
    const check = () => {
      const m = /Fabric (?:rpc )?is running on (http:\/\/\S+)/.exec(output) ?? /(Fabric daemon) for cluster \S+ is running/.exec(output)
      if (m) { clearTimeout(timer); resolve(m[1]!.startsWith("http") ? m[1]! : "") }
    }
    child.stdout!.on("data", check)
    void exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`fabric exited (${code ?? signal}) before starting:\n${output}`)) })
  })
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
    await exited
  }
  return { url, child, output: () => output, exited, stop }
}
