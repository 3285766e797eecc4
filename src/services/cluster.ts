import { Context, Schema, type Effect } from "effect"
import type { ClusterId } from "../domain/cluster.ts"

/** The labels and annotation every object Fabric creates carries (docs/architecture.md, Names). */
export const managedByLabel = "app.kubernetes.io/managed-by"
export const managedByValue = "fabric"
export const projectLabel = "fabric.demeter.run/project"
export const accountAnnotation = "fabric.demeter.run/account"
export const generationAnnotation = "fabric.demeter.run/generation"

export interface ManagedNamespace {
  readonly name: string
  readonly projectId: string
  readonly accountId: string
  readonly generation: number
}

/** An existing namespace that Fabric does not own: never adopted, never touched. */
export class NamespaceConflict extends Schema.TaggedError<NamespaceConflict>()("NamespaceConflict", {
  cluster: Schema.String,
  namespace: Schema.String,
}) {}

/** The API server could not be reached, or kept failing after retries: an outage, worth waiting out. */
export class ClusterUnavailable extends Schema.TaggedError<ClusterUnavailable>()("ClusterUnavailable", {
  cluster: Schema.String,
  reason: Schema.String,
}) {}

/**
 * The API server answered that it will not do this (Forbidden, Invalid, an admission webhook's
 * denial): sending the same request again cannot help until someone changes the cluster.
 */
export class ClusterRefused extends Schema.TaggedError<ClusterRefused>()("ClusterRefused", {
  cluster: Schema.String,
  reason: Schema.String,
}) {}

export const labelsFor = (ns: ManagedNamespace): Record<string, string> => ({
  [managedByLabel]: managedByValue,
  [projectLabel]: ns.projectId,
})

export const annotationsFor = (ns: ManagedNamespace): Record<string, string> => ({
  [accountAnnotation]: ns.accountId,
  [generationAnnotation]: String(ns.generation),
})

/** True when the labels say Fabric manages the object for this project. */
export const isOwnedBy = (labels: Readonly<Record<string, string>> | undefined, projectId: string): boolean =>
  labels?.[managedByLabel] === managedByValue && labels[projectLabel] === projectId

/** What the daemon needs from ONE cluster. */
export class Cluster extends Context.Service<Cluster, {
  readonly id: ClusterId
  /** Creates the namespace, or confirms ours exists; a foreign one with that name is a conflict. */
  readonly ensureNamespace: (ns: ManagedNamespace) => Effect.Effect<"created" | "unchanged", NamespaceConflict | ClusterUnavailable | ClusterRefused>
  /** Starts deletion of OUR namespace; "absent" once it is really gone; a foreign one is a conflict. */
  readonly deleteNamespace: (ns: ManagedNamespace) => Effect.Effect<"deleting" | "absent", NamespaceConflict | ClusterUnavailable | ClusterRefused>
  /** Every namespace carrying Fabric's managed-by label. */
  readonly listManaged: () => Effect.Effect<ReadonlyArray<ManagedNamespace>, ClusterUnavailable | ClusterRefused>
}>()("fabric/Cluster") {}
