// The shape of a log line, as log shippers and people read it. JSON: one flat object a line,
// `level`, `time`, `msg`, then the line's own fields, then the fiber's annotations (`cluster`,
// ...), then `requestId` last; a failure's cause under `error`. Pretty (a terminal): one line,
// `HH:MM:SS.mmm LEVEL msg key=value ... requestId=…`.
import { Cause, Logger, References } from "effect"

export interface LogRecord {
  readonly level: string
  readonly time: string
  readonly msg: string
  readonly [field: string]: unknown
}

const isFields = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Error)

/** Builds the record: `Effect.logInfo("msg", { fields })`; other values land in `details`. */
export const toLogRecord = (options: {
  readonly message: unknown
  readonly level: string
  readonly date: Date
  readonly annotations: Readonly<Record<string, unknown>>
  readonly cause?: string | undefined
}): LogRecord => {
  const parts = Array.isArray(options.message) ? options.message : [options.message]
  const [first, ...rest] = parts
  const record: Record<string, unknown> = { level: options.level.toLowerCase(), time: options.date.toISOString(), msg: typeof first === "string" ? first : JSON.stringify(first) }
  const details: unknown[] = []
  for (const part of rest) {
    if (isFields(part)) {
      for (const [k, v] of Object.entries(part)) if (v !== undefined && !(k in record)) record[k] = v
    } else details.push(part instanceof Error ? part.message : part)
  }
  if (details.length > 0) record.details = details
  const { requestId, ...annotations } = options.annotations
  for (const [k, v] of Object.entries(annotations)) if (!(k in record)) record[k] = v
  if (options.cause !== undefined) record.error = options.cause
  if (requestId !== undefined) record.requestId = requestId
  return record as LogRecord
}

const pad = (level: string) => level.toUpperCase().padEnd(5)
const scalar = (v: unknown) => (typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v))

/** One readable line for a terminal. */
export const prettyLine = (record: LogRecord): string => {
  const { level, time, msg, ...fields } = record
  const rest = Object.entries(fields).map(([k, v]) => `${k}=${scalar(v)}`).join(" ")
  return `${time.slice(11, 23)} ${pad(level)} ${msg}${rest === "" ? "" : ` ${rest}`}`
}

/** A logger writing each record through `write`, as JSON or pretty lines. */
export const lineLogger = (format: "json" | "pretty", write: (line: string) => void) =>
  Logger.make(({ message, logLevel, date, fiber, cause }) => {
    const record = toLogRecord({
      message, level: logLevel, date,
      annotations: fiber.getRef(References.CurrentLogAnnotations),
      cause: cause.reasons.length > 0 ? Cause.pretty(cause) : undefined,
    })
    write(format === "json" ? JSON.stringify(record) : prettyLine(record))
  })
