import { Context, Effect } from "effect"

/**
 * Fault injection for the crash-safety tests: named points between two durable steps (outbox
 * published but not marked sent, namespace created but status not yet published, ...). The
 * default does nothing; `fabric dev` with FABRIC_CRASH_AT=<point> kills itself (SIGKILL) there.
 */
export const CrashHook = Context.Reference<(point: CrashPoint) => void>("fabric/CrashHook", { defaultValue: () => () => {} })

export type CrashPoint =
  | "relay.before-publish"
  | "relay.after-publish"
  | "daemon.after-cluster-change"
  | "daemon.after-status"
  | "management.after-observation"

export const crashPoint = (point: CrashPoint) => Effect.gen(function* () {
  const hook = yield* CrashHook
  hook(point)
})
