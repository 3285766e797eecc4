// The one place where errors become HTTP answers: {"error": {code, message, issues?}} (docs/api.md).
import type { Context } from "hono"
import { HTTPException } from "hono/http-exception"
import type { ContentfulStatusCode, UnofficialStatusCode } from "hono/utils/http-status"
import type { DomainError, ValidationIssue } from "../../src/domain/errors.ts"
import type { FabricEnv } from "./env.ts"

export type ErrorCode =
  | "invalid_request" | "unauthorized" | "forbidden" | "not_found" | "method_not_allowed" | "conflict" | "quota_exceeded"
  | "too_many_requests" | "unavailable" | "internal"

export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly issues?: ReadonlyArray<ValidationIssue> }
}

const byTag: Record<DomainError["_tag"], [ContentfulStatusCode, ErrorCode]> = {
  InvalidRequest: [400, "invalid_request"],
  Unauthorized: [401, "unauthorized"],
  Forbidden: [403, "forbidden"],
  NotFound: [404, "not_found"],
  Conflict: [409, "conflict"],
  QuotaExceeded: [422, "quota_exceeded"],
  Unavailable: [503, "unavailable"],
}

/**
 * The client went away before the answer (its request's signal aborted), so the request's fiber
 * was interrupted: not a server fault. Work it had begun finishes on its own (a transaction
 * commits or rolls back whole); the client retries with its Idempotency-Key.
 */
export class ClientClosedRequest extends Error {
  constructor() {
    super("the client closed the request before its answer")
  }
}

/** nginx's status for a request its client abandoned; nobody reads the answer, logs and metrics do. */
const clientClosedStatus = 499 as UnofficialStatusCode

const messageOf = (e: DomainError): string => (e._tag === "NotFound" ? `${e.resource} ${e.id} not found` : e.message)

export const errorResponse = (c: Context, status: ContentfulStatusCode, code: ErrorCode, message: string, issues?: ReadonlyArray<ValidationIssue>) =>
  c.json({ error: { code, message, ...(issues && issues.length > 0 ? { issues } : {}) } } satisfies ErrorBody, status)

export const onError = (err: Error, c: Context<FabricEnv>) => {
  const tag = (err as { _tag?: string })._tag
  if (tag !== undefined && tag in byTag) {
    const e = err as DomainError
    const [status, code] = byTag[e._tag]
    return errorResponse(c, status, code, messageOf(e), e._tag === "InvalidRequest" ? e.issues : undefined)
  }
  if (err instanceof ClientClosedRequest) return c.body(null, clientClosedStatus)
  if (err instanceof HTTPException) {
    // Hono's own refusals (malformed JSON, wrong content type) are bad input, not server faults.
    if (err.status === 400 || err.status === 415) return errorResponse(c, 400, "invalid_request", err.message)
    if (err.status === 401) return errorResponse(c, 401, "unauthorized", err.message)
    return errorResponse(c, err.status as ContentfulStatusCode, "internal", err.message)
  }
  console.error(JSON.stringify({ level: "error", msg: "unhandled error", requestId: c.get("requestId"), error: String(err?.stack ?? err) }))
  return errorResponse(c, 500, "internal", "internal error")
}
