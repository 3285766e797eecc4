// A new project's actor, for a project created on its own (Projects) or as an account's default
// project (Accounts): run inside the caller's transaction.
import { Clock, Effect } from "effect"
import { makeHost, type HostServices } from "../../machines/host.ts"
import { hostedProject, toProject, type ProjectSteps } from "../../machines/project-steps.ts"
import type { AccountId } from "../domain/account.ts"
import { Ids } from "../services/ids.ts"
import { MembershipStore } from "../services/membership-store.ts"

export type NewProjectServices = Ids | MembershipStore | ProjectSteps | HostServices

const projects = makeHost(hostedProject)

/**
 * The member clusters a new entity (project, resource) starts with, read under the shared
 * membership lock, held to the commit: a cluster that joins meanwhile either is among them or is
 * told to the entity by its join's notice, never neither. Every cluster not removed is a member;
 * Unreachable ones do not hold it back from Ready.
 */
export const currentMembers = Effect.gen(function* () {
  const membership = yield* MembershipStore
  const members = membership.listClusters().pipe(Effect.map((cs) => cs.filter((c) => c.phase !== "Removed")))
  // Two statements, pipelined: the members are read after the lock is held.
  const [, clusters] = yield* Effect.all([membership.lockMembership("shared"), members], { concurrency: "unbounded" })
  return { clusterIds: clusters.map((c) => c.id), unreachableClusterIds: clusters.filter((c) => c.phase === "Unreachable").map((c) => c.id) }
})

export const newProject = Effect.fn("Projects.newProject")(function* (accountId: AccountId, name: string) {
  const ids = yield* Ids
  const projectId = yield* ids.projectId
  const namespace = yield* ids.namespace(name)
  const at = new Date(yield* Clock.currentTimeMillis).toISOString()
  const snapshot = yield* projects.create(projectId, { projectId, accountId, name, namespace, at, ...(yield* currentMembers) })
  return toProject(snapshot)
})
