import { Effect, Logger } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { lineLogger, prettyLine, toLogRecord } from "./log-format.ts"

const at = new Date("2026-12-02T07:48:01.123Z")

test("a JSON record is flat: level, time, msg, then fields, then annotations, requestId last", () => {
  const record = toLogRecord({ message: ["cluster joined", { cluster: "sim-a", before: "unknown" }], level: "Info", date: at, annotations: { requestId: "r-1", process: "rpc" } })
  assert.equal(Object.keys(record), ["level", "time", "msg", "cluster", "before", "process", "requestId"])
  assert.equal(record, { level: "info", time: "2026-12-02T07:48:01.123Z", msg: "cluster joined", cluster: "sim-a", before: "unknown", process: "rpc", requestId: "r-1" })
})

test("a field of the line wins over an annotation of the same name, and the record's own keys are never overwritten", () => {
  const record = toLogRecord({ message: ["x", { cluster: "from-line", level: "fake", msg: "fake" }], level: "Warning", date: at, annotations: { cluster: "from-fiber" } })
  assert.is(record.cluster, "from-line")
  assert.is(record.level, "warning")
  assert.is(record.msg, "x")
})

test("values that are not fields go to details, errors by their message; a cause goes to error", () => {
  const record = toLogRecord({ message: ["failed", "plain text", new Error("boom")], level: "Error", date: at, annotations: {}, cause: "Error: boom\n  at …" })
  assert.equal(record.details, ["plain text", "boom"])
  assert.is(record.error, "Error: boom\n  at …")
})

test("the pretty line reads in one line, with quoted values where they hold spaces", () => {
  const line = prettyLine(toLogRecord({ message: ["namespace ensured", { namespace: "prj-a-x1", result: "created", reason: "two words" }], level: "Info", date: at, annotations: { requestId: "r-1" } }))
  assert.is(line, '07:48:01.123 INFO  namespace ensured namespace=prj-a-x1 result=created reason="two words" requestId=r-1')
})

test("the logger writes one JSON line per Effect log call, with the fiber's annotations", async () => {
  const lines: string[] = []
  await Effect.runPromise(Effect.logInfo("observation published", { projectId: "prj_1" }).pipe(
    Effect.annotateLogs({ cluster: "sim-b", requestId: "r-9" }),
    Effect.provide(Logger.layer([lineLogger("json", (line) => lines.push(line))])),
  ))
  assert.is(lines.length, 1)
  const parsed = JSON.parse(lines[0]!)
  assert.equal({ ...parsed, time: "t" }, { level: "info", time: "t", msg: "observation published", projectId: "prj_1", cluster: "sim-b", requestId: "r-9" })
})

test.run()
