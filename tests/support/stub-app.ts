// The HTTP app over stand-in management services (every one the API calls) that record every call: for route tests of what is
// refused at the boundary (a refused request must reach no management call) without a database.
import { Effect, Layer, ManagedRuntime } from "effect"
import type { Context } from "hono"
import type { Kind } from "../../src/domain/kind.ts"
import { makeApp } from "../../rpc/app.ts"
import { Unauthorized } from "../../src/domain/errors.ts"
import { bearerTokenOf, constantTimeEqual } from "../../src/management/credentials.ts"
import { Accounts } from "../../src/management/accounts.ts"
import { Authentication } from "../../src/management/authentication.ts"
import { ClusterRegistry } from "../../src/management/cluster-registry.ts"
import { DebugReads } from "../../src/management/debug-reads.ts"
import { Projects } from "../../src/management/projects.ts"
import { Readiness } from "../../src/management/readiness.ts"
import { Resources } from "../../src/management/resources.ts"
import { Changes } from "../../src/services/changes.ts"
import { KindCatalogue } from "../../src/services/kind-catalogue.ts"
import { Metrics } from "../../src/services/metrics.ts"

export const stubOperatorToken = "stub-operator-token-0123456789"

type Methods = Record<string, (...args: any[]) => Effect.Effect<unknown, unknown>>

/** `methods` answer the calls a test expects; authenticate knows the operator token only; `kinds` is the catalogue (none by default). */
export const stubApp = (methods: Methods = {}, kinds: ReadonlyArray<Kind> = []) => {
  const calls: Array<{ readonly name: string; readonly args: ReadonlyArray<unknown> }> = []
  const implementations: Methods = {
    authenticate: (authorization: string | undefined) => {
      const token = bearerTokenOf(authorization)
      return token !== undefined && constantTimeEqual(token, stubOperatorToken)
        ? Effect.succeed({ kind: "operator" })
        : Effect.fail(new Unauthorized({ message: "invalid token" }))
    },
    isDebugSessionRevoked: () => Effect.succeed(false),
    ...methods,
  }
  // One stand-in for every service: a method is known by its name alone (they do not repeat).
  const stub = (service: string) => new Proxy({}, {
    get: (_, name) => (...args: unknown[]) => {
      calls.push({ name: String(name), args })
      return implementations[String(name)]?.(...args) ?? Effect.die(`${service}.${String(name)} is not stubbed`)
    },
  })
  const services = Layer.mergeAll(
    Layer.succeed(Accounts, stub("Accounts") as never),
    Layer.succeed(Projects, stub("Projects") as never),
    Layer.succeed(Resources, stub("Resources") as never),
    Layer.succeed(Authentication, stub("Authentication") as never),
    Layer.succeed(Readiness, stub("Readiness") as never),
    Layer.succeed(DebugReads, stub("DebugReads") as never),
    Layer.succeed(ClusterRegistry, stub("ClusterRegistry") as never),
    Layer.succeed(Changes, stub("Changes") as never),
    KindCatalogue.layerOf(kinds),
  )
  const runtime = ManagedRuntime.make(Layer.merge(Metrics.layer, services))
  const app = makeApp({
    runtime: runtime as never, operatorToken: stubOperatorToken,
    watch: { pollMs: 1_000, keepAliveMs: 1_000, streams: new Set() },
    // Tests name the client's address in a header of their own.
    clientAddress: (c: Context) => c.req.header("x-test-client"),
  })
  /** The calls other than authentication: what a refused request must not have made. */
  const work = () => calls.filter((c) => c.name !== "authenticate")
  const request = (path: string, init: RequestInit = {}) =>
    app.request(path, { ...init, headers: { authorization: `Bearer ${stubOperatorToken}`, ...(init.headers as Record<string, string>) } })
  return { app, calls, work, request, dispose: () => runtime.dispose() }
}
