// One failed apiserver request, classified: which status and reason Kubernetes gave (or which
// network error stopped us), and whether trying again can help. Internal to this adapter: the
// Cluster layer turns the ones it does not expect (everything but 404 / 409 where they mean
// something) into ClusterUnavailable.
import { ApiException } from "@kubernetes/client-node"
import { Schema } from "effect"

export class ApiFailure extends Schema.TaggedError<ApiFailure>()("ApiFailure", {
  /** e.g. "create namespace prj-x" */
  operation: Schema.String,
  /** HTTP status; absent when no response came back (network error, timeout). */
  status: Schema.optional(Schema.Number),
  /** Kubernetes' Status.reason (AlreadyExists, Forbidden, ...) or our name for a transport failure. */
  reason: Schema.String,
  message: Schema.String,
  /** 429, 5xx, timeouts and network errors: the next attempt may succeed. */
  retryable: Schema.Boolean,
  /** How many times the request was sent before giving up. */
  attempts: Schema.Number,
}) {}

// Fallback reasons when the body is not a Status object (a proxy's HTML page, an empty body).
const reasonByStatus: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  410: "Expired",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  502: "BadGateway",
  503: "ServiceUnavailable",
  504: "Timeout",
}

const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500

interface StatusBody {
  readonly reason?: unknown
  readonly message?: unknown
}

const parseStatus = (body: unknown): StatusBody => {
  if (typeof body === "object" && body !== null) return body as StatusBody
  if (typeof body !== "string") return {}
  try {
    const parsed: unknown = JSON.parse(body)
    return typeof parsed === "object" && parsed !== null ? (parsed as StatusBody) : { message: body }
  } catch {
    return { message: body }
  }
}

// TLS and certificate failures will not heal by retrying: the kubeconfig is wrong.
const tlsErrorCode = /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/

/** Node's fetch wraps the socket error in `cause`; its code says what happened (ECONNREFUSED, ...). */
const transportDetail = (error: unknown): { code: string | undefined; message: string } => {
  const parts: string[] = []
  let code: string | undefined
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    parts.push(e.message)
    const c = (e as { code?: unknown }).code
    if (typeof c === "string") code ??= c
  }
  return { code, message: parts.join(": ") || String(error) }
}

export const classifyFailure = (operation: string, error: unknown): ApiFailure => {
  if (error instanceof ApiException) {
    const status = error.code
    const body = parseStatus(error.body)
    const reason = typeof body.reason === "string" && body.reason !== "" ? body.reason : (reasonByStatus[status] ?? `HTTP${status}`)
    const message = typeof body.message === "string" && body.message !== "" ? body.message : `HTTP ${status}`
    return new ApiFailure({ operation, status, reason, message: message.slice(0, 500), retryable: isRetryableStatus(status), attempts: 1 })
  }
  const { code, message } = transportDetail(error)
  if (code && tlsErrorCode.test(code)) {
    return new ApiFailure({ operation, reason: "TLSError", message: `${code}: ${message}`, retryable: false, attempts: 1 })
  }
  return new ApiFailure({ operation, reason: "NetworkError", message: code && !message.includes(code) ? `${code}: ${message}` : message, retryable: true, attempts: 1 })
}

export const timedOut = (operation: string, timeoutMs: number): ApiFailure =>
  new ApiFailure({ operation, reason: "Timeout", message: `no response within ${timeoutMs} ms`, retryable: true, attempts: 1 })

/** One line for ClusterUnavailable.reason: what failed, how, and whether retries were spent. */
export const describeFailure = (failure: ApiFailure): string => {
  const status = failure.status === undefined ? "" : ` (HTTP ${failure.status})`
  const n = failure.attempts
  const tries = failure.retryable ? `; gave up after ${n} attempt${n === 1 ? "" : "s"}` : "; not retried"
  return `${failure.operation}: ${failure.reason}${status}: ${failure.message}${tries}`
}

/** The apiserver answered and declined (4xx other than 429): the same request will fail again. */
export const isRefusal = (failure: ApiFailure): boolean =>
  failure.status !== undefined && failure.status >= 400 && failure.status < 500 && failure.status !== 429
