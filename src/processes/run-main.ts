// Runs a long-lived program until SIGINT/SIGTERM, then closes every scope, last opened first:
// the HTTP server drains (rpc/http/drain.ts, ./http.ts), consumers stop taking messages and commit
// what finished, the daemon says it left, the database closes; then the process exits 0.
import { Cause, Effect, Exit, Fiber, type ManagedRuntime, type Scope } from "effect"

/** Beyond the drain, what closing the consumers and the database may take before we give up. */
const closeMarginMs = 10_000

const log = (level: string, msg: string) => console.error(JSON.stringify({ level, time: new Date().toISOString(), msg }))

/** "EventBusUnavailable: connect admin: KafkaJSSASLAuthenticationError: ...": the reason, not just the error's name. */
const describeFailure = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  const reason = (error as { reason?: unknown }).reason
  return typeof reason === "string" && error instanceof Error ? `${error.name}: ${reason}` : String(error)
}

export const runMain = async <A, R>(
  runtime: ManagedRuntime.ManagedRuntime<R, unknown>,
  program: Effect.Effect<A, unknown, R | Scope.Scope>,
  drainMs: number,
  onStarted: (a: A) => void,
) => {
  const fiber = runtime.runFork(Effect.scoped(Effect.gen(function* () {
    const started = yield* program
    onStarted(started)
    return yield* Effect.never
  })))
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) {
      // A second signal: the operator does not want to wait for the drain.
      log("warn", `received ${signal} again, exiting at once`)
      process.exit(1)
    }
    stopping = true
    log("info", `received ${signal}, shutting down: draining requests in flight for up to ${drainMs}ms`)
    const overrun = setTimeout(() => {
      log("error", `shutdown did not finish within ${drainMs + closeMarginMs}ms; exiting`)
      process.exit(1)
    }, drainMs + closeMarginMs)
    overrun.unref()
    await Effect.runPromise(Fiber.interrupt(fiber))
    await runtime.dispose()
    log("info", "shut down")
    process.exit(0)
  }
  process.on("SIGINT", () => void stop("SIGINT"))
  process.on("SIGTERM", () => void stop("SIGTERM"))
  const exit = await Effect.runPromise(Fiber.await(fiber))
  if (Exit.isFailure(exit) && !Exit.hasInterrupts(exit)) {
    console.error(`fabric: ${describeFailure(exit.cause)}`)
    await runtime.dispose()
    process.exit(1)
  }
}
