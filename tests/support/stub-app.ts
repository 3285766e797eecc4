// The HTTP app over a stand-in Management that records every call: for route tests of what is
// refused at the boundary (a refused request must reach no management call) without a database.
import { Effect, Layer, ManagedRuntime } from "effect"
import type { Context } from "hono"
import { makeApp } from "../../rpc/app.ts"
import { Unauthorized } from "../../src/domain/errors.ts"
import { bearerTokenOf, constantTimeEqual } from "../../src/management/credentials.ts"
import { Management } from "../../src/management/management.ts"
import { Metrics } from "../../src/services/metrics.ts"

export const stubOperatorToken = "stub-operator-token-0123456789"

type Methods = Record<string, (...args: any[]) => Effect.Effect<unknown, unknown>>

/** `methods` answer the calls a test expects; authenticate knows the operator token only. */
export const stubApp = (methods: Methods = {}) => {
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
  const management = new Proxy({}, {
    get: (_, name) => (...args: unknown[]) => {
      calls.push({ name: String(name), args })
      return implementations[String(name)]?.(...args) ?? Effect.die(`Management.${String(name)} is not stubbed`)
    },
  })
  const runtime = ManagedRuntime.make(Layer.merge(Metrics.layer, Layer.succeed(Management, management as never)))
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
