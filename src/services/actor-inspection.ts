// Where the actor host (machines/host.ts) reports what its actors do: xstate's `inspect` option.
// Nobody by default; FABRIC_STATELY_INSPECT=1 provides Stately's inspector
// (src/processes/stately-inspect.ts), a debugging aid that stays out of production.
import { Context } from "effect"
import type { InspectionEvent, Observer } from "xstate"

export const ActorInspection = Context.Reference<Observer<InspectionEvent> | undefined>("fabric/ActorInspection", {
  defaultValue: () => undefined,
})
