// Pure helpers of the Kafka layer: lag arithmetic and record conversion (no broker needed).
import { test } from "uvu"
import * as assert from "uvu/assert"
import { uncommittedMessages } from "./lag.ts"
import { offsetAfter, toBusMessage, toKafkaMessage } from "./records.ts"

test("lag: a never-committed partition counts everything retained, a committed one counts what is after the commit", () => {
  const ends = [
    { partition: 0, low: "0", high: "10" },
    { partition: 1, low: "5", high: "8" },
    { partition: 2, low: "0", high: "4" },
  ]
  assert.is(uncommittedMessages([{ partition: 0, offset: "7" }, { partition: 1, offset: "-1" }, { partition: 2, offset: "4" }], ends), 3 + 3 + 0)
  assert.is(uncommittedMessages([], ends), 10 + 3 + 4)
  // a commit behind retention (low) cannot lag by messages that no longer exist
  assert.is(uncommittedMessages([{ partition: 1, offset: "2" }], [{ partition: 1, low: "5", high: "8" }]), 3)
})

test("records: tombstones stay null, headers become strings, the committed offset is the next one", () => {
  const message = toBusMessage("t", 2, {
    key: Buffer.from("project-1"), value: null, timestamp: "0", attributes: 0, offset: "41",
    headers: { a: Buffer.from("x"), b: "y", repeated: [Buffer.from("1"), Buffer.from("2")], gone: undefined },
  })
  assert.equal(message, { topic: "t", partition: 2, offset: "41", key: "project-1", value: null, headers: { a: "x", b: "y", repeated: "2" } })
  assert.is(offsetAfter("41"), "42")
  assert.is(offsetAfter("9007199254740993"), "9007199254740994")
  assert.equal(toKafkaMessage({ key: "k", value: null }), { key: "k", value: null })
  assert.equal(toKafkaMessage({ key: "k", value: "v", headers: { h: "1" } }), { key: "k", value: "v", headers: { h: "1" } })
})

test.run()
