// Who is calling: the operator token, or one account's API key (stored only as a hash).
import { Clock, Context, Effect, Layer } from "effect"
import { Unauthorized, type Unavailable } from "../domain/errors.ts"
import type { Caller } from "../domain/account.ts"
import { AccountStore } from "../services/account-store.ts"
import { DebugSessions } from "../services/debug-sessions.ts"
import { bearerTokenOf, constantTimeEqual, sha256Hex } from "./credentials.ts"

export class Authentication extends Context.Service<Authentication, {
  /** The caller an `Authorization: Bearer …` header names; Unauthorized when it is missing or matches nobody. */
  readonly authenticate: (authorization: string | undefined, operatorToken: string) => Effect.Effect<Caller, Unauthorized | Unavailable>
  /** For the debug UI: a logout ends its session on every replica (rpc/http/debug-session.ts). */
  readonly revokeDebugSession: (sessionId: string, expiresAtMs: number) => Effect.Effect<void, Unavailable>
  readonly isDebugSessionRevoked: (sessionId: string) => Effect.Effect<boolean, Unavailable>
}>()("fabric/Authentication") {
  static readonly layer = Layer.effect(Authentication, Effect.gen(function* () {
    const store = yield* AccountStore
    const debugSessions = yield* DebugSessions

    const authenticate = Effect.fn("Authentication.authenticate")(function* (authorization: string | undefined, operatorToken: string) {
      const token = bearerTokenOf(authorization)
      if (token === undefined) return yield* new Unauthorized({ message: "missing bearer token" })
      if (constantTimeEqual(token, operatorToken)) return { kind: "operator" } as Caller
      const accountId = yield* store.accountIdForKey(yield* Effect.promise(() => sha256Hex(token)))
      if (accountId === undefined) return yield* new Unauthorized({ message: "invalid token" })
      return { kind: "account", accountId } as Caller
    })

    const revokeDebugSession = Effect.fn("Authentication.revokeDebugSession")(function* (sessionId: string, expiresAtMs: number) {
      yield* debugSessions.revokeDebugSession(sessionId, new Date(expiresAtMs), new Date(yield* Clock.currentTimeMillis))
    })

    const isDebugSessionRevoked = (sessionId: string) => debugSessions.isDebugSessionRevoked(sessionId)

    return Authentication.of({ authenticate, revokeDebugSession, isDebugSessionRevoked })
  }))
}
