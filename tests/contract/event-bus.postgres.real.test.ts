// The EventBus contract against the event log on a real Postgres server (DATABASE_URL without
// KAFKA_BROKERS), plus what only a shared server shows: messages another process wrote reach this
// one's members through the slow poll of the partitions' ends.
import { Context, Effect, Layer } from "effect"
import * as assert from "uvu/assert"
import * as eventLog from "../../adapters/embedded/event-log.ts"
import * as postgres from "../../adapters/postgres/database.ts"
import { EventBus, type BusMessage } from "../../src/services/event-bus.ts"
import { freshDatabase } from "../support/real-engines.ts"
import { eventBusContract } from "./event-bus.ts"

const database = await freshDatabase()
const logOnPostgres = () => eventLog.layer({ pollIntervalMs: 50 }).pipe(Layer.provide(postgres.layerUrl({ url: database.url })))

const contract = eventBusContract("event log on Postgres", logOnPostgres)

contract("a member in one process gets what another process publishes, and readAll there sees it", () =>
  Effect.runPromise(
    Effect.gen(function* () {
      // two layers, two pools, two logs: as two processes on one server
      const here = Context.get(yield* Layer.build(logOnPostgres()), EventBus)
      const there = Context.get(yield* Layer.build(logOnPostgres()), EventBus)
      const topic = `cross-${crypto.randomUUID().slice(0, 8)}`
      yield* here.ensureTopics([{ name: topic, partitions: 2, compacted: false }])
      const received: Array<BusMessage> = []
      yield* here.subscribe({ group: `${topic}-group`, topics: [topic], fromBeginning: true, handle: (batch) => Effect.sync(() => void received.push(...batch)) })
      yield* there.publish(topic, Array.from({ length: 6 }, (_, i) => ({ key: `project-${i}`, value: `m${i}` })))
      const deadline = Date.now() + 30_000
      while (received.length < 6 && Date.now() < deadline) yield* Effect.sleep(25)
      assert.equal(received.map((m) => m.value).sort(), ["m0", "m1", "m2", "m3", "m4", "m5"])
      assert.is((yield* here.readAll(topic, `${topic}-reader`)).length, 6)
    }).pipe(Effect.scoped),
  ))

contract.after(() => database.drop())

contract.run()
