import { Context, Effect } from "effect"

/**
 * Fault injection for the crash-safety tests: named points between two durable steps (outbox
 * published but not marked sent, namespace created but status not yet published, ...). Every
 * process runs with the default, which does nothing; only the crash-safety test's entrypoint
 * provides a hook that kills the process there (tests/support/fabric-dev-crashing.ts).
 */
export const CrashHook = Context.Reference<(point: CrashPoint) => void>("fabric/CrashHook", { defaultValue: () => () => {} })

export const crashPoints = [
  "relay.before-publish",
  "relay.after-publish",
  "daemon.after-cluster-change",
  "daemon.after-status",
  "management.after-observation",
] as const

export type CrashPoint = (typeof crashPoints)[number]

export const crashPoint = (point: CrashPoint) => Effect.gen(function* () {
  const hook = yield* CrashHook
  hook(point)
})
