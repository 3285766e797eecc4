import type { Effect } from "effect"
import type { Caller } from "../src/domain/project.ts"
import type { Changes } from "../src/services/changes.ts"
import type { ClusterRegistry } from "../src/management/cluster-registry.ts"
import type { Management } from "../src/management/management.ts"

/** Runs a management Effect for this request (request id attached); typed failures are thrown to onError. */
export type Runner = <A, E>(effect: Effect.Effect<A, E, Management | ClusterRegistry | Changes>) => Promise<A>

export interface FabricEnv {
  Variables: {
    caller: Caller
    run: Runner
    requestId: string
  }
}
