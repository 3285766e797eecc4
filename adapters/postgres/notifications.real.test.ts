// Changes on a real Postgres server (adapters/postgres/notifications.ts): what migration 004's
// triggers announce reaches every process at commit and never for a rolled-back write, an outbox
// write wakes the relay once, and the LISTEN connection survives being terminated or cut off.
import { createServer, connect, type Server, type Socket } from "node:net"
import { Effect, Layer, Logger, ManagedRuntime } from "effect"
import postgres from "postgres"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { Changes } from "../../src/services/changes.ts"
import { freshDatabase } from "../../tests/support/real-engines.ts"
import { waitFor } from "../../tests/support/wait-for.ts"
import { layerUrl } from "./database.ts"
import { changesLayer } from "./notifications.ts"

interface Listening {
  readonly changes: Changes["Service"]
  /** How often each listener was called, by the key it listens on ("outbox" for the relay's). */
  readonly calls: Map<string, number>
  readonly logs: string[]
  readonly listen: (actorId: string) => Promise<void>
  readonly dispose: () => Promise<void>
}

/** One process's Changes, over its own pool (a real process has one); `listenUrl` is where its LISTEN connection goes. */
const openChanges = async (url: string, probeMs: number, listenUrl = url): Promise<Listening> => {
  const logs: string[] = []
  const capture = Logger.layer([Logger.make(({ message }) => { logs.push(String(Array.isArray(message) ? message[0] : message)); })])
  const runtime = ManagedRuntime.make(changesLayer({ url: listenUrl, probeMs }).pipe(Layer.provide(layerUrl({ url })), Layer.provide(capture)))
  const changes = await runtime.runPromise(Changes.use((c) => Effect.succeed(c)))
  const calls = new Map<string, number>()
  const count = (key: string) => () => calls.set(key, (calls.get(key) ?? 0) + 1)
  await Effect.runPromise(changes.listenOutbox(count("outbox")))
  return {
    changes, calls, logs,
    listen: async (actorId) => { await Effect.runPromise(changes.listen(actorId, count(actorId))) },
    dispose: () => runtime.dispose(),
  }
}

const calledFor = (process: Listening, key: string) => waitFor(`${key} to be notified`, async () => ((process.calls.get(key) ?? 0) > 0 ? true : undefined), 30_000, 20)

const writeActor = (sql: postgres.Sql | postgres.TransactionSql, actorId: string) =>
  sql`insert into fabric.actor_snapshots (actor_id, machine, version, status, snapshot, updated_at)
      values (${actorId}, 'project', 1, 'active', '{}', now())
      on conflict (actor_id) do update set version = fabric.actor_snapshots.version + 1`

/**
 * A notification sent after `earlier` committed arrives after everything `earlier` sent (one
 * queue, commit order): once the marker is in, whatever `earlier` would have announced is too.
 */
const sendMarker = async (sql: postgres.Sql, process: Listening, marker: string) => {
  await process.listen(marker)
  await sql`select pg_notify('fabric_actor_changed', ${marker})`
  await calledFor(process, marker)
}

/** A TCP hop to Postgres whose connections can go silent without closing (an idle connection a firewall dropped). */
const silencingProxy = async (target: URL) => {
  const silenced = new Set<Socket>()
  const live = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname)
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      live.add(from)
      from.on("data", (chunk) => { if (!silenced.has(from)) to.write(chunk) })
      from.on("error", () => { client.destroy(); upstream.destroy() })
      from.on("close", () => { live.delete(from); client.destroy(); upstream.destroy() })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  const url = new URL(target)
  url.port = String((server.address() as { port: number }).port)
  return {
    url: url.toString(),
    /** Every connection open now stops carrying bytes, both ways, and stays open; new ones work. */
    silence: () => { for (const s of live) silenced.add(s) },
    close: () => { for (const s of live) s.destroy(); return new Promise<void>((resolve) => server.close(() => resolve())) },
  }
}

const resubscribing = "Postgres LISTEN connection is not receiving notifications; subscribing again"

const notifications = suite<{ url: string; drop: () => Promise<void>; sql: postgres.Sql; a: Listening; b: Listening }>("Postgres notifications")

notifications.before(async (ctx) => {
  const database = await freshDatabase()
  ctx.url = database.url
  ctx.drop = database.drop
  // The probe is out of the way (10 minutes): only the triggers and porsager's re-LISTEN act here.
  ctx.a = await openChanges(database.url, 600_000)
  ctx.b = await openChanges(database.url, 600_000)
  ctx.sql = postgres(database.url, { max: 4, onnotice: () => {} })
})
notifications.after(async (ctx) => {
  await ctx.a.dispose()
  await ctx.b.dispose()
  await ctx.sql.end()
  await ctx.drop()
})

notifications("an actor change reaches every process at commit, not before, and a rolled-back one never", async ({ sql, a, b }) => {
  await a.listen("prj_committed")
  await b.listen("prj_committed")
  await a.listen("prj_rolled_back")
  await sql.begin(async (tx) => {
    await writeActor(tx, "prj_committed")
    await sendMarker(sql, a, "marker-before-commit")
    assert.is(a.calls.get("prj_committed"), undefined, "announced before its transaction committed")
  })
  await calledFor(a, "prj_committed")
  await calledFor(b, "prj_committed")

  await sql.begin(async (tx) => {
    await writeActor(tx, "prj_rolled_back")
    throw new Error("roll back")
  }).catch(() => {})
  await sendMarker(sql, a, "marker-after-rollback")
  assert.is(a.calls.get("prj_rolled_back"), undefined, "a rolled-back write was announced")
  assert.is(a.calls.get("prj_committed"), 1)
  assert.is(b.calls.get("prj_committed"), 1)
})

notifications("an outbox write wakes the relay of every process once per transaction, however many rows", async ({ sql, a, b }) => {
  const before = { a: a.calls.get("outbox") ?? 0, b: b.calls.get("outbox") ?? 0 }
  await sql.begin(async (tx) => {
    await tx`insert into fabric.outbox (topic, key, value) values ('fabric.projects', 'prj_1', 'one'), ('fabric.projects', 'prj_2', 'two')`
    await tx`insert into fabric.outbox (topic, key, value) values ('fabric.projects', 'prj_3', 'three')`
  })
  await sendMarker(sql, a, "marker-after-outbox")
  await sendMarker(sql, b, "marker-after-outbox")
  assert.is((a.calls.get("outbox") ?? 0) - before.a, 1)
  assert.is((b.calls.get("outbox") ?? 0) - before.b, 1)
})

notifications("a terminated LISTEN connection comes back: its listeners are woken once (they may have missed something), then notified as before", async ({ sql, a }) => {
  await a.listen("prj_waiting")
  const terminated = await sql`
    select pg_terminate_backend(pid) as ok from pg_stat_activity
    where datname = current_database() and application_name = 'fabric-listen'`
  assert.ok(terminated.length >= 2, `expected the LISTEN connections of both processes, found ${terminated.length}`)
  await calledFor(a, "prj_waiting")
  await a.listen("prj_after_restart")
  await writeActor(sql, "prj_after_restart")
  await calledFor(a, "prj_after_restart")
  assert.is(a.calls.get("prj_waiting"), 1)
})

notifications("a LISTEN connection gone silent without closing is replaced by the probe, and notifications flow again", async ({ url, sql }) => {
  // porsager sees no close, so it does not re-LISTEN; only the probe (every 200 ms here, sent
  // through the pool, which is not silenced) notices that nothing arrives.
  const proxy = await silencingProxy(new URL(url))
  const c = await openChanges(url, 200, proxy.url)
  try {
    await c.listen("prj_before_silence")
    await writeActor(sql, "prj_before_silence")
    await calledFor(c, "prj_before_silence")
    await c.listen("prj_through_silence")
    proxy.silence()
    // Woken once the new connection listens (it may have missed something)...
    await calledFor(c, "prj_through_silence")
    assert.ok(c.logs.includes(resubscribing))
    // ...and notified on it as before.
    await c.listen("prj_after_silence")
    await writeActor(sql, "prj_after_silence")
    await calledFor(c, "prj_after_silence")
  } finally {
    await c.dispose()
    await proxy.close()
  }
})

notifications.run()
