import type { Effect } from "effect"
import type { Caller } from "../../src/domain/account.ts"
import type { Changes } from "../../src/services/changes.ts"
import type { KindCatalogue } from "../../src/services/kind-catalogue.ts"
import type { Accounts } from "../../src/management/accounts.ts"
import type { Authentication } from "../../src/management/authentication.ts"
import type { ClusterRegistry } from "../../src/management/cluster-registry.ts"
import type { DebugReads } from "../../src/management/debug-reads.ts"
import type { Projects } from "../../src/management/projects.ts"
import type { Readiness } from "../../src/management/readiness.ts"
import type { Resources } from "../../src/management/resources.ts"

/** The management programs the API calls, and the catalogue of kinds. */
export type ApiServices = Accounts | Projects | Resources | Authentication | Readiness | DebugReads | ClusterRegistry | Changes | KindCatalogue

/** Runs a management Effect for this request (request id attached); typed failures are thrown to onError. */
export type Runner = <A, E>(effect: Effect.Effect<A, E, ApiServices>) => Promise<A>

export interface FabricEnv {
  Variables: {
    caller: Caller
    run: Runner
    requestId: string
  }
}
