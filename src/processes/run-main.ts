// Runs a long-lived program until SIGINT/SIGTERM, then closes every scope (HTTP, consumers,
// database) before exiting.
import { Effect, Exit, Fiber, type ManagedRuntime, type Scope } from "effect"

export const runMain = async <A, R>(runtime: ManagedRuntime.ManagedRuntime<R, unknown>, program: Effect.Effect<A, unknown, R | Scope.Scope>, onStarted: (a: A) => void) => {
  const fiber = runtime.runFork(Effect.scoped(Effect.gen(function* () {
    const started = yield* program
    onStarted(started)
    return yield* Effect.never
  })))
  const stop = async (signal: string) => {
    console.error(JSON.stringify({ level: "info", msg: `received ${signal}, shutting down` }))
    await Effect.runPromise(Fiber.interrupt(fiber))
    await runtime.dispose()
    process.exit(0)
  }
  process.once("SIGINT", () => void stop("SIGINT"))
  process.once("SIGTERM", () => void stop("SIGTERM"))
  const exit = await Effect.runPromise(Fiber.await(fiber))
  if (Exit.isFailure(exit) && !Exit.hasInterrupts(exit)) {
    console.error(`fabric: ${String(exit.cause)}`)
    await runtime.dispose()
    process.exit(1)
  }
}
