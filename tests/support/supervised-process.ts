// A `fabric` process kept running the way a supervisor (Kubernetes, systemd) keeps it: started
// again whenever it exits without being asked to, each exit recorded. The fault campaign kills
// processes on purpose (sigkill: killed, then started again) and counts the exits it did not cause.
// Each run's output goes to `<logDir>/<name>.log` as it is written.
import { appendFileSync } from "node:fs"
import { join } from "node:path"
import { startFabricProcess, type FabricProcess } from "./fabric-process.ts"

export interface Exit {
  readonly at: Date
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** The last lines the process wrote before it exited. */
  readonly tail: string
}

export class SupervisedProcess {
  private current: FabricProcess | undefined
  private starting: Promise<FabricProcess> | undefined
  private expected = false
  private stopped = false
  private runs = 0
  /** Exits nobody asked for (the process stopped by itself, or crashed). */
  readonly unexpectedExits: Exit[] = []
  /** Starts that failed (the process exited before it said it was running); each was tried again. */
  readonly failedStarts: string[] = []

  readonly name: string
  private readonly env: Record<string, string>
  private readonly args: ReadonlyArray<string>
  private readonly logDir: string
  /** How long one start may take, and how long starting may keep failing, before giving up. */
  private readonly startTimeoutMs: number
  /** Told every process id started (to find them again if this test process is killed). */
  private readonly onStart: (pid: number) => void

  constructor(name: string, env: Record<string, string>, args: ReadonlyArray<string>, logDir: string, options: { startTimeoutMs?: number; onStart?: (pid: number) => void } = {}) {
    this.name = name
    this.env = env
    this.args = args
    this.logDir = logDir
    this.startTimeoutMs = options.startTimeoutMs ?? 120_000
    this.onStart = options.onStart ?? (() => {})
  }

  get url(): string { return this.current?.url ?? "" }
  get pid(): number | undefined { return this.current?.child.pid }

  /** Starts the process, trying again (every second) while it exits before it is running. */
  start(): Promise<FabricProcess> {
    this.starting ??= this.startUntilRunning().finally(() => { this.starting = undefined })
    return this.starting
  }

  private async startUntilRunning(): Promise<FabricProcess> {
    const deadline = Date.now() + this.startTimeoutMs
    for (;;) {
      const run = ++this.runs
      try {
        const started = await startFabricProcess(this.env, this.startTimeoutMs, this.args)
        if (started.child.pid !== undefined) this.onStart(started.child.pid)
        this.current = started
        // what it wrote so far, then each line as it comes (kept even if this test process is killed)
        this.log(`===== run ${run}: pid ${started.child.pid}, started ${new Date().toISOString()}\n${started.output()}`)
        started.child.stdout!.on("data", (d) => this.log(String(d)))
        started.child.stderr!.on("data", (d) => this.log(String(d)))
        void started.exited.then((exit) => this.exited(started, run, exit))
        return started
      } catch (e) {
        const message = String(e instanceof Error ? e.message : e)
        this.log(`===== run ${run}: did not start (${new Date().toISOString()})\n${message}\n`)
        this.failedStarts.push(message.split("\n")[0]!)
        if (this.stopped || Date.now() > deadline) throw new Error(`${this.name} did not start within ${this.startTimeoutMs} ms: ${message.slice(-2000)}`)
        await new Promise((r) => setTimeout(r, 1_000))
      }
    }
  }

  private exited(process: FabricProcess, run: number, exit: { code: number | null; signal: NodeJS.Signals | null }) {
    this.log(`===== run ${run}: exited (${exit.code ?? exit.signal}) ${new Date().toISOString()}\n`)
    if (this.current === process) this.current = undefined
    if (this.expected || this.stopped) return
    this.unexpectedExits.push({ at: new Date(), ...exit, tail: process.output().split("\n").slice(-15).join("\n") })
    void this.start().catch(() => {}) // the failure is in failedStarts; the campaign's checks see the process missing
  }

  private log(text: string) {
    appendFileSync(join(this.logDir, `${this.name}.log`), text)
  }

  /** SIGKILL, wait until it is gone, start it again. */
  async sigkill(): Promise<void> {
    const victim = this.current ?? (await this.start())
    this.expected = true
    try {
      victim.child.kill("SIGKILL")
      await victim.exited
    } finally {
      this.expected = false
    }
    await this.start()
  }

  /** SIGTERM (SIGKILL after `graceMs`); not started again. */
  async stop(graceMs = 30_000): Promise<void> {
    this.stopped = true
    await this.starting?.catch(() => undefined)
    const process = this.current
    if (process === undefined) return
    const timer = setTimeout(() => process.child.kill("SIGKILL"), graceMs)
    await process.stop()
    clearTimeout(timer)
  }
}
