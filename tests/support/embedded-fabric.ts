// An in-process Fabric on the embedded layers (in-memory PGlite, embedded event log, simulated
// clusters) for tests that drive it through HTTP with `app.request`, no socket involved.
import { Cause, Effect, Exit, Fiber } from "effect"
import * as simulated from "../../adapters/embedded/cluster.ts"
import { Database } from "../../adapters/postgres/database.ts"
import { parseConfig } from "../../src/processes/config.ts"
import { defaultDaemonOptions, runDaemon, type DaemonOptions } from "../../src/daemon/daemon.ts"
import type { Project } from "../../src/domain/project.ts"
import { makeAllInOne, type ClusterPlan } from "../../src/processes/all-in-one.ts"
import { fabricClient } from "../../rpc/client.ts"
import { freshDatabase, requireRealEngines, uniqueKafkaPrefix } from "./real-engines.ts"
import { waitFor } from "./wait-for.ts"

export const operatorToken = "test-operator-token-0123456789"

export interface StartOptions {
  readonly clusters?: Readonly<Record<string, simulated.SimulatedClusterSettings>>
  /** Reuse cluster states (a restart: the clusters keep their namespaces). */
  readonly states?: ReadonlyMap<string, simulated.SimulatedClusterState>
  readonly dataDir?: string
  /** Any extra environment for parseConfig (e.g. DATABASE_URL for the real-engine suites). */
  readonly env?: Readonly<Record<string, string>>
  /** The engines of a previous run (a restart keeps the same database and Kafka prefix). */
  readonly engines?: Engines
  /** Silence after which a cluster counts as Unreachable (default 60 s: heartbeats come every 200 ms, and a loaded machine must not flap clusters; a suite about Unreachable sets it short). */
  readonly unreachableAfterMs?: number
  /** Apiserver calls in flight per daemon (FABRIC_DAEMON_CONCURRENCY; default 16). */
  readonly daemonConcurrency?: number
  /** The SSE watches' fallback re-read (default 200 ms; a test of notifications sets it very long). */
  readonly watchPollMs?: number
}

interface Engines {
  readonly env: Readonly<Record<string, string>>
  readonly cleanup: () => Promise<void>
}

/** FABRIC_TEST_ENGINES=real: the same suite on real Postgres and Kafka (clusters stay simulated). */
const realEngines = async (): Promise<Engines> => {
  if (process.env.FABRIC_TEST_ENGINES !== "real") return { env: {}, cleanup: async () => {} }
  const { kafkaBrokers } = requireRealEngines()
  const database = await freshDatabase()
  return {
    env: { DATABASE_URL: database.url, KAFKA_BROKERS: kafkaBrokers, FABRIC_KAFKA_PREFIX: uniqueKafkaPrefix() },
    cleanup: database.drop,
  }
}

export const startFabric = async (options: StartOptions = {}) => {
  const clusterSettings = options.clusters ?? { "sim-a": {}, "sim-b": {}, "sim-c": {} }
  const engines = options.engines ?? await realEngines()
  const config = { ...parseConfig({ FABRIC_CLUSTERS: Object.keys(clusterSettings).join(","), ...engines.env, ...options.env }), dataDir: options.dataDir }
  const states = new Map<string, simulated.SimulatedClusterState>()
  const clusters: ClusterPlan[] = Object.entries(clusterSettings).map(([id, settings]) => {
    const state = options.states?.get(id) ?? new simulated.SimulatedClusterState({ terminatingMs: 50, ...settings })
    states.set(id, state)
    return { id, state, layer: simulated.layer({ id, state }) }
  })
  const daemonOptions: DaemonOptions = { ...defaultDaemonOptions, concurrency: options.daemonConcurrency ?? defaultDaemonOptions.concurrency, retryBase: "20 millis", retryCap: "200 millis", deletionPollMs: 20, heartbeatMs: 200, driftIntervalMs: 200 }
  const fabric = makeAllInOne({ ...config, unreachableAfterMs: options.unreachableAfterMs ?? 60_000, heartbeatMs: 200 } as never, {
    operatorToken, clusters, watchPollMs: options.watchPollMs ?? 200, daemon: daemonOptions,
  })
  const fiber = fabric.runtime.runFork(Effect.scoped(Effect.andThen(fabric.start, Effect.never)))
  // Wait until management is up (the topics exist and clusters are registered); never go on
  // without it. A start that fails says why at once; the limit only guards against a hang (a
  // loaded machine starts slowly). Given up, this process is stopped before the error goes on:
  // left running, it would go on retrying its engines and keep the test file from exiting.
  // `gaveUp` ends the registration poll too.
  let gaveUp = false
  const exited = Effect.runPromise(Fiber.await(fiber)).then((exit) => {
    throw new Error(`the embedded process stopped while starting: ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "it ended"}`)
  })
  const registered = waitFor("management to register the clusters", async () => {
    if (gaveUp) return true
    const r = await fabric.app.request("/v1/clusters", { headers: { authorization: `Bearer ${operatorToken}` } })
    return r.status === 200 && ((await r.json()) as { clusters: unknown[] }).clusters.length >= clusters.length ? true : undefined
  }, 300_000, 25)
  exited.catch(() => undefined)
  try {
    await Promise.race([registered, exited])
  } catch (e) {
    gaveUp = true
    await Effect.runPromise(Fiber.interrupt(fiber))
    await fabric.runtime.dispose()
    throw e
  }

  const request = async (method: string, path: string, init: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...init.headers }
    const token = init.token === undefined ? operatorToken : init.token
    if (token !== null) headers.authorization = `Bearer ${token}`
    let body: string | undefined
    if (init.raw !== undefined) body = init.raw
    else if (init.body !== undefined) body = JSON.stringify(init.body)
    if (body !== undefined) headers["content-type"] ??= "application/json"
    const response = await fabric.app.request(path, { method, headers, body })
    const text = await response.text()
    let json: any
    try { json = text === "" ? undefined : JSON.parse(text) } catch { json = undefined }
    return { status: response.status, json, text, headers: response.headers }
  }

  /** The typed client (rpc/client.ts) over the in-process app: how the end-to-end suites call the API. */
  const clientFor = (token: string = operatorToken) =>
    fabricClient("http://fabric.test", token, { fetch: ((input: RequestInfo | URL, init?: RequestInit) => fabric.app.request(input instanceof Request ? input : String(input), init)) as typeof fetch })
  const client = clientFor()

  /** Runs SQL on Fabric's database (to count rows the way the old Demeter version reads them). */
  const sql = <T = any>(text: string, ...params: unknown[]) =>
    fabric.runtime.runPromise(Database.use(({ pool }) => Effect.promise(() => pool.unsafe(text, params as never[]) as unknown as Promise<T[]>)))

  const waitForProject = async (projectId: string, done: (p: Project) => boolean, token?: string, timeoutMs = 30_000): Promise<Project> => {
    const deadline = Date.now() + timeoutMs
    let last: Project | undefined
    while (Date.now() < deadline) {
      const r = await clientFor(token).v1.projects[":projectId"].$get({ param: { projectId } })
      last = r.status === 200 ? (await r.json()).project : undefined
      if (last && done(last)) return last
      await new Promise((res) => setTimeout(res, 25))
    }
    throw new Error(`project ${projectId} did not reach the expected state; last seen: ${JSON.stringify(last)}`)
  }

  const extraDaemons = new Map<string, Fiber.Fiber<unknown, unknown>>()
  /** A cluster joining later: its daemon starts in this process and announces itself. */
  const addCluster = (id: string, settings: simulated.SimulatedClusterSettings = {}) => {
    const state = states.get(id) ?? new simulated.SimulatedClusterState({ terminatingMs: 50, ...settings })
    states.set(id, state)
    extraDaemons.set(id, fabric.runtime.runFork(Effect.scoped(Effect.andThen(
      Effect.provide(runDaemon(daemonOptions), simulated.layer({ id, state })),
      Effect.never,
    )).pipe(Effect.tapCauseIf((cause) => !Cause.hasInterruptsOnly(cause), (cause) => Effect.logError(`daemon ${id} failed`, Cause.pretty(cause))))))
    return state
  }
  /** Stops a daemon started with addCluster (it announces that it left). */
  const stopCluster = async (id: string) => {
    const daemon = extraDaemons.get(id)
    if (daemon === undefined) throw new Error(`no daemon for ${id} was added`)
    extraDaemons.delete(id)
    await Effect.runPromise(Fiber.interrupt(daemon))
  }

  const shutdown = async () => {
    for (const daemon of extraDaemons.values()) await Effect.runPromise(Fiber.interrupt(daemon))
    await Effect.runPromise(Fiber.interrupt(fiber))
    await fabric.runtime.dispose()
  }
  const stop = async () => {
    await shutdown()
    await engines.cleanup()
  }
  /**
   * Stops this process and starts another on the same data (PGlite data dir, or the same real
   * database and Kafka prefix) and the same simulated clusters; `clusters` may name more.
   * `whileDown` acts on the clusters while no daemon is running.
   */
  const restart = async (more: Partial<StartOptions> = {}, whileDown?: () => void | Promise<void>) => {
    await shutdown()
    await whileDown?.()
    return startFabric({ ...options, states, engines, ...more })
  }

  return { app: fabric.app, runtime: fabric.runtime, streams: fabric.streams, client, clientFor, request, sql, states, waitForProject, addCluster, stopCluster, stop, restart }
}

export type TestFabric = Awaited<ReturnType<typeof startFabric>>

