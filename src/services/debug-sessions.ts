import { Context, type Effect } from "effect"
import type { Unavailable } from "../domain/errors.ts"

/** /debug sessions ended by a logout, until they would have expired (rpc/http/debug-session.ts). */
export class DebugSessions extends Context.Service<DebugSessions, {
  readonly revokeDebugSession: (sessionId: string, expiresAt: Date, now: Date) => Effect.Effect<void, Unavailable>
  readonly isDebugSessionRevoked: (sessionId: string) => Effect.Effect<boolean, Unavailable>
}>()("fabric/DebugSessions") {}
