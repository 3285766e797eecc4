// The EventBus contract: what every layer (Kafka, the embedded Postgres log) must do. A runner
// file per layer calls `eventBusContract(name, makeLayer).run()`.
//
// Every case uses fresh topic and group names, so runs against a shared broker never collide,
// and asserts outcomes (what was delivered, in which order, what is committed), never timings.
import { Deferred, Effect, Exit, Layer, Scope } from "effect"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { EventBus, type BusMessage, type KeyBatch, type OutgoingMessage } from "../../src/services/event-bus.ts"

export interface EventBusContractOptions {
  /** Topic and group names start with this (so a runner can delete them afterwards). */
  readonly namePrefix?: string
  /** Upper bound for one case, including building the layer. */
  readonly caseTimeoutMs?: number
}

const randomId = () => crypto.randomUUID().slice(0, 8)

/** Messages a handler saw, in the order it saw them. */
const makeInbox = () => {
  const messages: Array<BusMessage> = []
  return {
    messages,
    values: () => messages.map((m) => m.value),
    handle: (batch: KeyBatch) => Effect.sync(() => void messages.push(...batch)),
  }
}

/** Polls `check` until it holds; the failure says what was awaited and what was seen. */
const eventually = <E>(what: string, check: Effect.Effect<boolean, E>, seen: () => unknown, timeoutMs = 30_000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + timeoutMs
    while (!(yield* check)) {
      if (Date.now() > deadline) {
        return yield* Effect.die(new Error(`waited ${timeoutMs}ms for ${what}; seen: ${JSON.stringify(seen())}`))
      }
      yield* Effect.sleep(25)
    }
  })

const numbered = (prefix: string, count: number, key: (i: number) => string): Array<OutgoingMessage> =>
  Array.from({ length: count }, (_, i) => ({ key: key(i), value: `${prefix}${i}` }))

export const eventBusContract = (
  name: string,
  makeLayer: () => Layer.Layer<EventBus, unknown, never>,
  options: EventBusContractOptions = {},
) => {
  const test = suite(`EventBus contract: ${name}`)
  const prefix = options.namePrefix ?? `contract-${randomId()}`
  const caseTimeoutMs = options.caseTimeoutMs ?? 90_000
  const unique = (what: string) => `${prefix}-${what}-${randomId()}`

  const run = (body: Effect.Effect<void, unknown, EventBus | Scope.Scope>) =>
    Effect.runPromise(
      body.pipe(
        Effect.scoped,
        Effect.provide(makeLayer()),
        Effect.timeoutOrElse({
          duration: caseTimeoutMs,
          orElse: () => Effect.die(new Error(`case did not finish within ${caseTimeoutMs}ms`)),
        }),
      ),
    )

  test("ensureTopics is idempotent, and a group reading from the beginning gets every message with key, value and headers", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("basic")
        yield* bus.ensureTopics([{ name: topic, partitions: 2, compacted: false }])
        yield* bus.ensureTopics([{ name: topic, partitions: 2, compacted: false }])
        const sent: Array<OutgoingMessage> = [
          { key: "a", value: '{"n":0}', headers: { "content-type": "application/json", "x-request-id": "r0" } },
          { key: "b", value: '{"n":1}', headers: { "content-type": "application/json" } },
          { key: "c", value: "plain text, ünïcödé" },
          { key: "a", value: "", headers: { empty: "" } },
          { key: "d", value: '{"n":4}', headers: { "x-request-id": "r4" } },
        ]
        yield* bus.publish(topic, sent.slice(0, 2))
        yield* bus.publish(topic, sent.slice(2))
        const inbox = makeInbox()
        yield* bus.subscribe({ group: unique("basic-group"), topics: [topic], fromBeginning: true, handle: inbox.handle })
        yield* eventually("5 messages", Effect.sync(() => inbox.messages.length >= 5), inbox.values)

        const received = inbox.messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers }))
        const expected = sent.map((m) => ({ key: m.key, value: m.value, headers: m.headers ?? {} }))
        const byKeyThenValue = (x: { key: string | null; value: string | null }, y: { key: string | null; value: string | null }) =>
          `${x.key}\u0000${x.value}`.localeCompare(`${y.key}\u0000${y.value}`)
        assert.equal([...received].sort(byKeyThenValue), [...expected].sort(byKeyThenValue))
        for (const m of inbox.messages) {
          assert.is(m.topic, topic)
          assert.ok(m.partition === 0 || m.partition === 1, `partition ${m.partition} of a 2-partition topic`)
          assert.match(m.offset, /^\d+$/)
        }
        const positions = new Set(inbox.messages.map((m) => `${m.partition}/${m.offset}`))
        assert.is(positions.size, 5, "every message has its own partition/offset")
        // key "a" was published twice: one partition, in publish order
        assert.equal(inbox.messages.filter((m) => m.key === "a").map((m) => m.value), ['{"n":0}', ""])
      }),
    ))

  test("per-key order holds across 5 keys x 20 messages on 3 partitions", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("order")
        yield* bus.ensureTopics([{ name: topic, partitions: 3, compacted: false }])
        const keys = ["project-a", "project-b", "project-c", "project-d", "project-e"]
        // four publishes, each interleaving every key, so order within a key spans calls
        for (let round = 0; round < 4; round++) {
          const messages: Array<OutgoingMessage> = []
          for (let i = round * 5; i < round * 5 + 5; i++) for (const key of keys) messages.push({ key, value: String(i) })
          yield* bus.publish(topic, messages)
        }
        const inbox = makeInbox()
        yield* bus.subscribe({ group: unique("order-group"), topics: [topic], fromBeginning: true, handle: inbox.handle })
        yield* eventually("100 messages", Effect.sync(() => inbox.messages.length >= 100), () => inbox.messages.length)

        const expected = Array.from({ length: 20 }, (_, i) => String(i))
        for (const key of keys) {
          const ofKey = inbox.messages.filter((m) => m.key === key)
          assert.equal(ofKey.map((m) => m.value), expected, `messages of ${key} in publish order, each once`)
          assert.is(new Set(ofKey.map((m) => m.partition)).size, 1, `${key} lives in one partition`)
        }
        const partitionsUsed = new Set(inbox.messages.map((m) => m.partition))
        assert.ok(partitionsUsed.size >= 2, `5 keys spread over more than one of 3 partitions (used ${[...partitionsUsed]})`)
      }),
    ))

  test("every group receives every message (broadcast)", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("broadcast")
        yield* bus.ensureTopics([{ name: topic, partitions: 2, compacted: false }])
        yield* bus.publish(topic, numbered("m", 8, (i) => `k${i}`))
        const daemonA = makeInbox()
        const daemonB = makeInbox()
        yield* bus.subscribe({ group: unique("cluster-a"), topics: [topic], fromBeginning: true, handle: daemonA.handle })
        yield* bus.subscribe({ group: unique("cluster-b"), topics: [topic], fromBeginning: true, handle: daemonB.handle })
        const all = () => daemonA.messages.length >= 8 && daemonB.messages.length >= 8
        yield* eventually("8 messages in each group", Effect.sync(all), () => ({ a: daemonA.values(), b: daemonB.values() }))
        const expected = Array.from({ length: 8 }, (_, i) => `m${i}`)
        assert.equal([...daemonA.values()].sort(), expected)
        assert.equal([...daemonB.values()].sort(), expected)
      }),
    ))

  test("two members of one group split the partitions and together handle every message", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("members")
        const group = unique("replicas")
        yield* bus.ensureTopics([{ name: topic, partitions: 4, compacted: false }])
        const replica1 = makeInbox()
        const replica2 = makeInbox()
        yield* bus.subscribe({ group, topics: [topic], fromBeginning: true, handle: replica1.handle })
        yield* bus.subscribe({ group, topics: [topic], fromBeginning: true, handle: replica2.handle })
        yield* bus.publish(topic, numbered("m", 40, (i) => `project-${i}`))
        const distinct = () => new Set([...replica1.messages, ...replica2.messages].map((m) => m.value)).size
        yield* eventually("40 distinct messages across both members", Effect.sync(() => distinct() >= 40), distinct)

        const partitionsOf = (inbox: ReturnType<typeof makeInbox>) => new Set(inbox.messages.map((m) => m.partition))
        assert.ok(replica1.messages.length > 0 && replica2.messages.length > 0, `both members got work (${replica1.messages.length}/${replica2.messages.length})`)
        const shared = [...partitionsOf(replica1)].filter((p) => partitionsOf(replica2).has(p))
        assert.equal(shared, [], "a partition belongs to one member at a time")
      }),
    ))

  test("a failing handler gets the same message again and nothing after it of its key before it succeeds", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("retry")
        yield* bus.ensureTopics([{ name: topic, partitions: 1, compacted: false }])
        yield* bus.publish(topic, numbered("m", 5, () => "project-x"))
        const attempts: Array<string> = []
        const offsets: Array<string> = []
        let failuresLeft = 2
        yield* bus.subscribe({
          group: unique("retry-group"),
          topics: [topic],
          fromBeginning: true,
          handle: ([message]) =>
            Effect.suspend(() => {
              if (message.value === "m2" && failuresLeft > 0) {
                failuresLeft--
                attempts.push(`${message.value} failed`)
                offsets.push(message.offset)
                return Effect.fail("not yet" as const)
              }
              attempts.push(`${message.value} ok`)
              offsets.push(message.offset)
              return Effect.void
            }),
        })
        yield* eventually("m4 handled", Effect.sync(() => attempts.includes("m4 ok")), () => attempts)
        assert.equal(attempts, ["m0 ok", "m1 ok", "m2 failed", "m2 failed", "m2 ok", "m3 ok", "m4 ok"])
        assert.is(new Set(offsets.slice(2, 5)).size, 1, "the retried message is the same offset each time")
      }),
    ))

  test("concurrency N runs N keys at once, and never more", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("concurrency")
        yield* bus.ensureTopics([{ name: topic, partitions: 2, compacted: false }])
        yield* bus.publish(topic, numbered("m", 8, (i) => `project-${i}`))
        const gate = yield* Deferred.make<void>()
        const running = new Set<string>()
        const handled: Array<string | null> = []
        let most = 0
        yield* bus.subscribe({
          group: unique("concurrency-group"),
          topics: [topic],
          fromBeginning: true,
          concurrency: 3,
          handle: ([message]) =>
            Effect.gen(function* () {
              running.add(message.key!)
              most = Math.max(most, running.size)
              yield* Deferred.await(gate)
              running.delete(message.key!)
              handled.push(message.value)
            }),
        })
        yield* eventually("3 keys running at once", Effect.sync(() => running.size === 3), () => [...running])
        yield* Deferred.succeed(gate, undefined)
        yield* eventually("8 messages", Effect.sync(() => handled.length === 8), () => handled)
        assert.is(most, 3)
      }),
    ))

  test("per-key order holds with concurrency 8 over 50 keys on 3 partitions", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("parallel-order")
        yield* bus.ensureTopics([{ name: topic, partitions: 3, compacted: false }])
        const keys = Array.from({ length: 50 }, (_, i) => `project-${i}`)
        for (let round = 0; round < 4; round++) {
          yield* bus.publish(topic, keys.flatMap((key) => [0, 1].map((n) => ({ key, value: String(round * 2 + n) }))))
        }
        const inbox = makeInbox()
        let running = 0
        let overlapOfOneKey = false
        const busy = new Set<string>()
        yield* bus.subscribe({
          group: unique("parallel-order-group"),
          topics: [topic],
          fromBeginning: true,
          concurrency: 8,
          handle: (batch) =>
            Effect.gen(function* () {
              const key = batch[0].key!
              if (busy.has(key)) overlapOfOneKey = true
              busy.add(key)
              running++
              // uneven handler times, so keys overtake each other
              yield* Effect.sleep(Number(batch[0].offset) % 3)
              running--
              busy.delete(key)
              yield* inbox.handle(batch)
            }),
        })
        yield* eventually("400 messages", Effect.sync(() => inbox.messages.length >= 400), () => inbox.messages.length)
        const expected = Array.from({ length: 8 }, (_, i) => String(i))
        for (const key of keys) assert.equal(inbox.messages.filter((m) => m.key === key).map((m) => m.value), expected, `messages of ${key} in order, each once`)
        assert.not.ok(overlapOfOneKey, "a key is never handled twice at once")
      }),
    ))

  test("a slow key does not hold up the other keys of its own partition", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("slow-key")
        yield* bus.ensureTopics([{ name: topic, partitions: 1, compacted: false }])
        yield* bus.publish(topic, [{ key: "project-slow", value: "slow" }, ...numbered("m", 6, (i) => `project-${i}`)])
        const slow = yield* Deferred.make<void>()
        const handled: Array<string | null> = []
        yield* bus.subscribe({
          group: unique("slow-key-group"),
          topics: [topic],
          fromBeginning: true,
          concurrency: 2,
          handle: ([message]) =>
            (message.value === "slow" ? Deferred.await(slow) : Effect.void).pipe(Effect.andThen(Effect.sync(() => void handled.push(message.value)))),
        })
        yield* eventually("the six behind the slow one, while it is still running", Effect.sync(() => handled.length === 6), () => handled)
        assert.equal(handled, Array.from({ length: 6 }, (_, i) => `m${i}`))
        yield* Deferred.succeed(slow, undefined)
        yield* eventually("the slow one", Effect.sync(() => handled.includes("slow")), () => handled)
      }),
    ))

  test("the committed offset stops at the lowest unfinished message; a restart redelivers from there and nothing is lost", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("commit-point")
        const group = unique("commit-point-group")
        yield* bus.ensureTopics([{ name: topic, partitions: 1, compacted: false }])
        // offset 3 belongs to a key whose handler never finishes in the first run
        const sent = numbered("m", 10, (i) => (i === 3 ? "project-stuck" : `project-${i}`))
        yield* bus.publish(topic, sent)

        const first: Array<string | null> = []
        const stuck = yield* Deferred.make<void>()
        const firstRun = yield* Scope.fork(yield* Effect.scope)
        yield* bus
          .subscribe({
            group,
            topics: [topic],
            fromBeginning: true,
            concurrency: 4,
            handle: ([message]) =>
              message.value === "m3"
                ? Deferred.succeed(stuck, undefined).pipe(Effect.andThen(Effect.never))
                : Effect.sync(() => void first.push(message.value)),
          })
          .pipe(Scope.provide(firstRun))
        yield* Deferred.await(stuck)
        yield* eventually("the other 9 handled", Effect.sync(() => first.length === 9), () => first)
        // m0..m2 committed, m3 is not, so neither is anything after it (7 left)
        yield* eventually("lag 7", bus.lag(group, topic).pipe(Effect.map((lag) => lag === 7)), () => first)
        yield* Scope.close(firstRun, Exit.void)

        const second = makeInbox()
        yield* bus.subscribe({ group, topics: [topic], fromBeginning: true, concurrency: 4, handle: second.handle })
        yield* eventually("7 redelivered", Effect.sync(() => second.messages.length >= 7), second.values)
        const byOffset = [...second.messages].sort((a, b) => Number(a.offset) - Number(b.offset)).map((m) => m.value)
        assert.equal(byOffset, sent.slice(3).map((m) => m.value), "from the unfinished m3 on: nothing committed comes again, nothing is lost")
        yield* eventually("lag 0", bus.lag(group, topic).pipe(Effect.map((lag) => lag === 0)), second.values)
      }),
    ))

  test("batchPerKey hands over the queued messages of a key together, in order", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("batch-per-key")
        yield* bus.ensureTopics([{ name: topic, partitions: 1, compacted: false }])
        const gate = yield* Deferred.make<void>()
        const calls: Array<Array<string | null>> = []
        yield* bus.subscribe({
          group: unique("batch-per-key-group"),
          topics: [topic],
          fromBeginning: true,
          concurrency: 2,
          batchPerKey: true,
          handle: (batch) =>
            Effect.sync(() => void calls.push(batch.map((m) => m.value))).pipe(Effect.andThen(batch[0].value === "x0" ? Deferred.await(gate) : Effect.void)),
        })
        yield* bus.publish(topic, [{ key: "project-x", value: "x0" }])
        yield* eventually("x0 running", Effect.sync(() => calls.length === 1), () => calls)
        // y comes after x1..x4 in the partition: once y is handled, x1..x4 are queued behind x0
        yield* bus.publish(topic, [...numbered("x", 5, () => "project-x").slice(1), { key: "project-y", value: "y" }])
        yield* eventually("y handled", Effect.sync(() => calls.some((c) => c[0] === "y")), () => calls)
        yield* Deferred.succeed(gate, undefined)
        yield* eventually("the rest of x", Effect.sync(() => calls.length === 3), () => calls)
        assert.equal(calls, [["x0"], ["y"], ["x1", "x2", "x3", "x4"]])
      }),
    ))

  test("a failing key is retried while the other keys flow", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("failing-key")
        yield* bus.ensureTopics([{ name: topic, partitions: 1, compacted: false }])
        yield* bus.publish(topic, [{ key: "project-bad", value: "bad" }, ...numbered("m", 5, (i) => `project-${i}`)])
        const good: Array<string | null> = []
        const badOffsets: Array<string> = []
        let badDone = false
        yield* bus.subscribe({
          group: unique("failing-key-group"),
          topics: [topic],
          fromBeginning: true,
          handle: ([message]) =>
            Effect.suspend(() => {
              if (message.value !== "bad") return Effect.sync(() => void good.push(message.value))
              badOffsets.push(message.offset)
              // fails until every other key went through: it succeeds only if they were not held up
              if (good.length < 5) return Effect.fail("not yet" as const)
              return Effect.sync(() => void (badDone = true))
            }),
        })
        yield* eventually("the bad key handled at last", Effect.sync(() => badDone), () => ({ good, badOffsets }))
        assert.equal(good, Array.from({ length: 5 }, (_, i) => `m${i}`))
        assert.ok(badOffsets.length >= 2, `retried: ${badOffsets}`)
        assert.is(new Set(badOffsets).size, 1, "the same message each time")
      }),
    ))

  test("at-least-once across a restart: committed messages are not redelivered, the interrupted one is, none is lost", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("restart")
        const group = unique("restart-group")
        yield* bus.ensureTopics([{ name: topic, partitions: 1, compacted: false }])
        yield* bus.publish(topic, numbered("m", 20, () => "project-x"))

        // first run: handles m0..m7, then hangs in m8 until its scope closes
        const first: Array<string | null> = []
        const stuck = yield* Deferred.make<void>()
        // a child of the case's scope: closed early on purpose, and still closed if the case fails
        const firstRun = yield* Scope.fork(yield* Effect.scope)
        yield* bus
          .subscribe({
            group,
            topics: [topic],
            fromBeginning: true,
            handle: ([message]) =>
              message.value === "m8"
                ? Deferred.succeed(stuck, undefined).pipe(Effect.andThen(Effect.never))
                : Effect.sync(() => void first.push(message.value)),
          })
          .pipe(Scope.provide(firstRun))
        yield* Deferred.await(stuck)
        // what the bus reports committed is what must never come again: m0..m7 (12 left)
        yield* eventually("lag 12 (m0..m7 committed)", bus.lag(group, topic).pipe(Effect.map((lag) => lag === 12)), () => first)
        yield* Scope.close(firstRun, Exit.void)
        assert.equal(first, Array.from({ length: 8 }, (_, i) => `m${i}`))

        const second = makeInbox()
        yield* bus.subscribe({ group, topics: [topic], fromBeginning: true, handle: second.handle })
        yield* eventually("m19 in the second run", Effect.sync(() => second.values().includes("m19")), second.values)
        assert.equal(second.values(), Array.from({ length: 12 }, (_, i) => `m${i + 8}`), "resumes at the interrupted m8, no committed message again")
        yield* eventually("lag 0", bus.lag(group, topic).pipe(Effect.map((lag) => lag === 0)), second.values)
      }),
    ))

  test("fromBeginning false: a new group skips what was published before it joined", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("latest")
        yield* bus.ensureTopics([{ name: topic, partitions: 1, compacted: false }])
        yield* bus.publish(topic, numbered("old", 3, () => "k"))
        const inbox = makeInbox()
        yield* bus.subscribe({ group: unique("latest-group"), topics: [topic], fromBeginning: false, handle: inbox.handle })
        yield* bus.publish(topic, numbered("new", 3, () => "k"))
        // one partition: any old message would arrive before the new ones
        yield* eventually("new2", Effect.sync(() => inbox.values().includes("new2")), inbox.values)
        assert.equal(inbox.values(), ["new0", "new1", "new2"])
      }),
    ))

  test("a tombstone (null value) is delivered as null", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("tombstone")
        yield* bus.ensureTopics([{ name: topic, partitions: 1, compacted: false }])
        yield* bus.publish(topic, [{ key: "project-x", value: "v1" }, { key: "project-x", value: null }, { key: "project-y", value: "v1" }])
        const inbox = makeInbox()
        yield* bus.subscribe({ group: unique("tombstone-group"), topics: [topic], fromBeginning: true, handle: inbox.handle })
        yield* eventually("3 messages", Effect.sync(() => inbox.messages.length >= 3), inbox.values)
        assert.equal(inbox.messages.map((m) => [m.key, m.value]), [["project-x", "v1"], ["project-x", null], ["project-y", "v1"]])
      }),
    ))

  test("compacted topic: a new group from the beginning sees each key's newest value last", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("compacted")
        yield* bus.ensureTopics([{ name: topic, partitions: 2, compacted: true }])
        const keys = ["project-a", "project-b", "project-c", "project-d"]
        for (const version of [1, 2, 3]) yield* bus.publish(topic, keys.map((key) => ({ key, value: `v${version}` })))
        const inbox = makeInbox()
        yield* bus.subscribe({ group: unique("backfill"), topics: [topic], fromBeginning: true, handle: inbox.handle })
        const newestSeen = () => keys.every((key) => inbox.messages.some((m) => m.key === key && m.value === "v3"))
        yield* eventually("v3 of every key", Effect.sync(newestSeen), () => inbox.messages.map((m) => `${m.key}=${m.value}`))
        for (const key of keys) {
          const values = inbox.messages.filter((m) => m.key === key).map((m) => m.value)
          // compaction may or may not have dropped v1/v2 yet; whatever is left comes in order, newest last
          assert.equal(values, ["v1", "v2", "v3"].filter((v) => values.includes(v)), `${key}: ${values}`)
          assert.is(values[values.length - 1], "v3")
        }
      }),
    ))

  test("lag counts messages a group has not committed and reaches 0 once they are handled", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("lag")
        const group = unique("lag-group")
        yield* bus.ensureTopics([{ name: topic, partitions: 2, compacted: false }])
        yield* bus.publish(topic, numbered("m", 6, (i) => `project-${i}`))
        assert.is(yield* bus.lag(group, topic), 6, "a group that never committed lags by everything")

        const gate = yield* Deferred.make<void>()
        const handled: Array<string | null> = []
        const started: Array<string | null> = []
        yield* bus.subscribe({
          group,
          topics: [topic],
          fromBeginning: true,
          handle: ([message]) =>
            Effect.sync(() => void started.push(message.value)).pipe(
              Effect.andThen(Deferred.await(gate)),
              Effect.andThen(Effect.sync(() => void handled.push(message.value))),
            ),
        })
        yield* eventually("a handler running", Effect.sync(() => started.length > 0), () => started)
        assert.is(yield* bus.lag(group, topic), 6, "nothing is committed while handlers have not finished")

        yield* Deferred.succeed(gate, undefined)
        yield* eventually("lag 0", bus.lag(group, topic).pipe(Effect.map((lag) => lag === 0)), () => handled)
        assert.is(handled.length, 6)
        assert.is(new Set(handled).size, 6)
      }),
    ))

  test("lags reads many groups on many topics at once, each in the order asked", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const [one, two] = [unique("lags-a"), unique("lags-b")]
        const [idle, reader] = [unique("lags-idle"), unique("lags-reader")]
        yield* bus.ensureTopics([{ name: one, partitions: 2, compacted: false }, { name: two, partitions: 1, compacted: false }])
        yield* bus.publish(one, numbered("a", 5, (i) => `project-${i}`))
        yield* bus.publish(two, numbered("b", 3, (i) => `project-${i}`))
        const handled: Array<string | null> = []
        yield* bus.subscribe({ group: reader, topics: [one], fromBeginning: true, handle: ([m]) => Effect.sync(() => void handled.push(m.value)) })
        yield* eventually("the reader's lag on the first topic 0", bus.lag(reader, one).pipe(Effect.map((lag) => lag === 0)), () => handled)
        const asked = [{ group: idle, topic: one }, { group: reader, topic: two }, { group: idle, topic: two }, { group: reader, topic: one }]
        assert.equal(yield* bus.lags(asked), [5, 3, 3, 0])
        assert.equal(yield* bus.lags([]), [])
      }),
    ))

  test("readAll returns every message up to the end, per partition in order, and commits nothing", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const topic = unique("read-all")
        yield* bus.ensureTopics([{ name: topic, partitions: 3, compacted: false }])
        assert.equal(yield* bus.readAll(topic, unique("reader")), [], "an empty topic reads as nothing")
        yield* bus.publish(topic, numbered("m", 12, (i) => `project-${i % 4}`))
        const all = yield* bus.readAll(topic, unique("reader"))
        assert.is(all.length, 12)
        for (const key of ["project-0", "project-1", "project-2", "project-3"]) {
          const values = all.filter((m) => m.key === key).map((m) => Number(m.value!.slice(1)))
          assert.equal(values, [...values].sort((a, b) => a - b), `order of ${key}`)
        }
        // nothing was committed for anyone: a new group still starts at the beginning
        const inbox = makeInbox()
        yield* bus.subscribe({ group: unique("after-read-all"), topics: [topic], fromBeginning: true, handle: inbox.handle })
        yield* eventually("12 messages", Effect.sync(() => inbox.messages.length === 12), () => inbox.messages.length)
      }),
    ))

  test("fencedPublisher: opening a newer publisher of a name fences the older one; each publish lands whole, per topic in order", () =>
    run(
      Effect.gen(function* () {
        const bus = yield* EventBus
        const desired = unique("fenced-desired")
        const status = unique("fenced-status")
        yield* bus.ensureTopics([{ name: desired, partitions: 2, compacted: false }, { name: status, partitions: 1, compacted: false }])
        const writer = unique("writer")
        const older = yield* bus.fencedPublisher(writer)
        yield* older.publish([
          { topic: desired, key: "p1", value: "1" }, { topic: status, key: "s", value: "s1" }, { topic: desired, key: "p1", value: "2" },
        ])
        const newer = yield* bus.fencedPublisher(writer)
        const refused = yield* Effect.flip(older.publish([{ topic: desired, key: "p1", value: "stale" }, { topic: status, key: "s", value: "stale" }]))
        assert.is(refused._tag, "PublisherFenced")
        yield* newer.publish([{ topic: desired, key: "p1", value: "3" }])
        // another name is not fenced by it
        const other = yield* bus.fencedPublisher(unique("other-writer"))
        yield* other.publish([{ topic: status, key: "s", value: "s2" }])

        const values = (messages: ReadonlyArray<BusMessage>) => messages.map((m) => m.value)
        assert.equal(values(yield* bus.readAll(desired, unique("reader"))), ["1", "2", "3"])
        assert.equal(values(yield* bus.readAll(status, unique("reader"))), ["s1", "s2"])
        const inbox = makeInbox()
        const reader = unique("fenced-reader")
        yield* bus.subscribe({ group: reader, topics: [desired, status], fromBeginning: true, handle: inbox.handle })
        yield* eventually("5 messages", Effect.sync(() => inbox.messages.length >= 5), inbox.values)
        assert.equal(inbox.messages.filter((m) => m.key === "p1").map((m) => m.value), ["1", "2", "3"])
        assert.not.ok(inbox.values().includes("stale"), "a fenced publish was delivered")
        // what a group has handled counts as done, however the publishes were committed on the bus
        for (const topic of [desired, status]) yield* eventually(`lag 0 on ${topic}`, bus.lag(reader, topic).pipe(Effect.map((lag) => lag === 0)), inbox.values)
      }),
    ))

  return test
}
