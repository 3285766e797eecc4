// The Leases contract against advisory locks on a real Postgres server (adapters/postgres/leases.ts),
// each contender a replica with a lease session of its own, plus what only a server shows: a
// holder whose session ends (terminated, as the server ends a dead client's) stops its work, and
// the lease goes on to exactly one replica.
import { Context, Effect, Fiber, Layer } from "effect"
import postgres from "postgres"
import * as assert from "uvu/assert"
import { leasesLayer } from "../../adapters/postgres/leases.ts"
import { Leases } from "../../src/services/leases.ts"
import { freshDatabase } from "../support/real-engines.ts"
import { eventually, leasesContract, racing, type Contenders } from "./leases.ts"

const database = await freshDatabase()
let replicas = 0

const contenders: Contenders = (count) =>
  Effect.forEach(Array.from({ length: count }), () =>
    Layer.build(leasesLayer({ url: database.url, holder: `contract-replica-${++replicas}`, pollMs: 100 })).pipe(
      Effect.map((context) => Context.get(context, Leases)),
    ))

const contract = leasesContract("Postgres advisory locks", contenders)

contract("a holder whose lease session is terminated stops its work at once; then exactly one replica holds the lease and runs it", () =>
  Effect.runPromise(Effect.gen(function* () {
    const { replicas, lease, work, fibers, first } = yield* racing(contenders, 3, "terminated")
    const admin = postgres(database.url, { max: 1, onnotice: () => {} })
    const ended = yield* Effect.promise(() => admin`
      select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = ${replicas[first]!.holder}`)
    yield* Effect.promise(() => admin.end())
    assert.equal(ended.map((r) => r.ok), [true])
    yield* eventually("the terminated holder's work stopped", () => work.log.includes(`stop ${first}`), () => work.log)
    yield* eventually("one contender running again", () => work.running.size === 1, () => work.log)
    const next = [...work.running][0]!
    for (const leases of replicas) assert.equal(yield* leases.holders([lease]), [{ lease, holder: replicas[next]!.holder }])
    for (const fiber of fibers) yield* Fiber.interrupt(fiber)
    assert.is(work.running.size, 0)
  }).pipe(Effect.scoped)))

contract.after(() => database.drop())
contract.run()
