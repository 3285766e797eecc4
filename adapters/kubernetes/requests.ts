// How every apiserver call is sent: through the client-side rate limit, with a per-attempt
// timeout that really aborts the HTTP request, retried with capped, jittered exponential backoff
// while the failure is transient (429, 5xx, network, timeout). Anything else fails at once.
import { Observable, type ConfigurationOptions, type ObservableMiddleware, type RequestContext } from "@kubernetes/client-node"
import { Clock, Effect, Schedule } from "effect"
import { ApiFailure, classifyFailure, timedOut } from "./api-failure.ts"
import { makeTokenBucket, type RateLimit } from "./rate-limit.ts"

export interface RetryPolicy {
  /** Retries after the first attempt; 0 sends once. */
  readonly maxRetries: number
  /** First backoff delay; doubles each retry. */
  readonly baseDelayMs: number
  /** Backoff cap (before jitter of +-20%). */
  readonly maxDelayMs: number
}

export interface RequestPolicy extends RateLimit {
  /** Per attempt, from sending to the whole response body. */
  readonly timeoutMs: number
  readonly retry: RetryPolicy
}

type Dispatcher = ReturnType<RequestContext["getDispatcher"]>

export interface Requester {
  readonly send: <A>(operation: string, call: (options: ConfigurationOptions) => Promise<A>) => Effect.Effect<A, ApiFailure>
  /** Closes the pooled connections (layer release). */
  readonly close: Effect.Effect<void>
}

const resolved = <T>(value: T): Observable<T> => new Observable(Promise.resolve(value))

export const makeRequester = (policy: RequestPolicy): Requester => {
  const bucket = makeTokenBucket(policy)
  const waitForToken = Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const waitMs = bucket.reserve(now)
    return waitMs > 0 ? Effect.sleep(waitMs) : Effect.void
  })

  const backoff = Schedule.min([Schedule.exponential(policy.retry.baseDelayMs), Schedule.spaced(policy.retry.maxDelayMs)]).pipe(
    Schedule.jittered,
    Schedule.upTo({ times: policy.retry.maxRetries }),
  )

  // client-node 2.0.1 builds a new undici Agent (a new connection pool, a new TLS handshake) for
  // every request. Keep the first one and reuse it, so requests share keep-alive connections.
  // Its TLS settings come from the kubeconfig, which does not change for this client's life.
  let pooled: Dispatcher
  const perRequest = (signal: AbortSignal): ConfigurationOptions => ({
    middlewareMergeStrategy: "append",
    middleware: [
      {
        pre: (context) => {
          context.setSignal(signal)
          const fresh = context.getDispatcher()
          if (fresh !== undefined) {
            pooled ??= fresh
            context.setDispatcher(pooled)
          }
          return resolved(context)
        },
        post: resolved,
      } satisfies ObservableMiddleware,
    ],
  })

  const send = <A>(operation: string, call: (options: ConfigurationOptions) => Promise<A>): Effect.Effect<A, ApiFailure> =>
    Effect.suspend(() => {
      let attempts = 0
      const attempt = Effect.tryPromise({
        try: (signal) => call(perRequest(signal)),
        catch: (error) => classifyFailure(operation, error),
      }).pipe(
        // The timeout interrupts the attempt, which aborts its signal and so the HTTP request.
        Effect.timeoutOrElse({ duration: policy.timeoutMs, orElse: () => Effect.fail(timedOut(operation, policy.timeoutMs)) }),
      )
      return Effect.andThen(
        waitForToken,
        Effect.suspend(() => {
          attempts++
          return attempt
        }),
      ).pipe(
        // A warning per transient failure that will be retried; it carries the caller's log
        // annotations (the daemon's cluster and request id).
        Effect.tapError((failure) =>
          failure.retryable && attempts <= policy.retry.maxRetries
            ? Effect.logWarning("apiserver request failed; retrying", { operation: failure.operation, status: failure.status, reason: failure.reason, attempt: attempts })
            : Effect.void),
        Effect.retry({ schedule: backoff, while: (failure) => failure.retryable }),
        Effect.mapError((f) => new ApiFailure({ operation: f.operation, status: f.status, reason: f.reason, message: f.message, retryable: f.retryable, attempts })),
        Effect.tap(() => Effect.annotateCurrentSpan("attempts", attempts)),
        Effect.tapError((f) => Effect.annotateCurrentSpan({ attempts, "http.response.status_code": f.status })),
      )
    }).pipe(Effect.withSpan("Kubernetes.request", { kind: "client", attributes: { operation } }))

  const close = Effect.promise(async () => {
    await pooled?.close().catch(() => {})
  })

  return { send, close }
}
