// Fabric processes (`fabric rpc`, `fabric daemon`, `fabric dev`) of the measured tree, as child
// processes whose output goes straight to a log file (a pipe into this process would cost the
// CPU the measured processes need).
import { spawn, type ChildProcess } from "node:child_process"
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs"
import { createServer } from "node:net"
import { sleep } from "./stats.ts"

export interface FabricChild {
  readonly name: string
  readonly pid: number
  readonly child: ChildProcess
  readonly logFile: string
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  readonly alive: () => boolean
  /** The last lines of its log (for a failure report). */
  readonly tail: (lines?: number) => string
  /** Resident set size now, from /proc (KiB). */
  readonly rssKiB: () => number
  readonly signal: (signal: NodeJS.Signals) => void
  /** SIGTERM, then SIGKILL after `graceMs`. */
  readonly stop: (graceMs?: number) => Promise<void>
}

let sequence = 0

export const spawnFabric = (tree: string, args: ReadonlyArray<string>, env: Record<string, string>, options: { name: string; logDir: string }): FabricChild => {
  const logFile = `${options.logDir}/${String(++sequence).padStart(2, "0")}-${options.name}.log`
  const fd = openSync(logFile, "a")
  const child = spawn(process.execPath, [`${tree}/src/bin/fabric.ts`, ...args], {
    cwd: tree, env: { ...process.env, ...env }, stdio: ["ignore", fd, fd],
  })
  closeSync(fd)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })))
  const alive = () => child.exitCode === null && child.signalCode === null
  const tail = (lines = 40) => {
    try {
      return readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n")
    } catch {
      return ""
    }
  }
  const rssKiB = () => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))
    if (!m) throw new Error(`no VmRSS for ${options.name} (pid ${child.pid})`)
    return Number(m[1])
  }
  const signal = (s: NodeJS.Signals) => { if (alive()) child.kill(s) }
  const stop = async (graceMs = 10_000) => {
    if (!alive()) return
    child.kill("SIGCONT") // a paused process cannot handle SIGTERM
    child.kill("SIGTERM")
    const timer = setTimeout(() => signal("SIGKILL"), graceMs)
    await exited
    clearTimeout(timer)
  }
  return { name: options.name, pid: child.pid!, child, logFile, exited, alive, tail, rssKiB, signal, stop }
}

/** The line a crash printed ("TypeError: ..."), if the text holds one. */
export const errorLine = (text: string): string | undefined => /\b[A-Z]\w*Error: [^\n]*/.exec(text)?.[0]

/** Resolves once the log shows `pattern`; fails if the process exits first or the time runs out. */
export const waitForLog = async (p: FabricChild, pattern: RegExp, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  let offset = 0
  let text = ""
  while (Date.now() < deadline) {
    const size = statSync(p.logFile).size
    if (size > offset) {
      const fd = openSync(p.logFile, "r")
      const buffer = Buffer.alloc(size - offset)
      readSync(fd, buffer, 0, buffer.length, offset)
      closeSync(fd)
      offset = size
      text = (text + buffer.toString("utf8")).slice(-64_000)
      if (pattern.test(text)) return
    }
    if (!p.alive()) throw new Error(`${p.name} exited (${p.child.exitCode ?? p.child.signalCode}) before logging ${pattern}:\n${p.tail()}`)
    await sleep(50)
  }
  throw new Error(`${p.name} did not log ${pattern} within ${timeoutMs} ms:\n${p.tail()}`)
}

/** A port nothing listens on now (the OS picks it), for a process that must keep it across restarts. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))))
    })
  })
