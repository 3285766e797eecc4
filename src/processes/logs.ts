// Where a process's log lines go: stdout, JSON lines (pretty lines when stdout is a terminal, as
// under `npm start`). Lines are gathered and written once per event-loop turn: one write call
// for many lines instead of one blocking write each (on a pipe every stdout write is
// synchronous). A line still in the buffer when the process is killed with SIGKILL is lost;
// a normal exit flushes it.
import { writeSync } from "node:fs"
import { Logger } from "effect"
import { lineLogger } from "./log-format.ts"

const makeStdoutSink = () => {
  let pending: string[] = []
  const flush = () => {
    if (pending.length === 0) return
    const text = `${pending.join("\n")}\n`
    pending = []
    process.stdout.write(text)
  }
  process.on("exit", () => {
    if (pending.length > 0) writeSync(1, `${pending.join("\n")}\n`)
    pending = []
  })
  return (line: string) => {
    if (pending.push(line) === 1) setImmediate(flush)
  }
}

/** The process's logger: replaces Effect's default one. */
export const processLogs = (format: "json" | "pretty" = process.stdout.isTTY ? "pretty" : "json") =>
  Logger.layer([lineLogger(format, makeStdoutSink())])
