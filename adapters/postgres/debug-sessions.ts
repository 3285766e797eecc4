import { Effect } from "effect"
import { DebugSessions } from "../../src/services/debug-sessions.ts"
import { query } from "./database.ts"
import { repositoryLayer } from "./repository-layer.ts"

/** Ends a /debug session on every replica; rows of sessions past their expiry go at the same time. */
export const revokeDebugSession = (sessionId: string, expiresAt: Date, now: Date) =>
  Effect.all([
    query((sql) => sql`insert into fabric.debug_session_revocations (session_id, expires_at) values (${sessionId}, ${expiresAt}) on conflict do nothing`),
    query((sql) => sql`delete from fabric.debug_session_revocations where expires_at < ${now}`),
  ], { discard: true })

export const isDebugSessionRevoked = (sessionId: string) =>
  query((sql) => sql<{ one: number }[]>`select 1 as one from fabric.debug_session_revocations where session_id = ${sessionId}`).pipe(
    Effect.map((rows) => rows.length > 0),
  )

export const layer = repositoryLayer(DebugSessions, { revokeDebugSession, isDebugSessionRevoked })
