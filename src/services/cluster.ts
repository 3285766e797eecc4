import { Context, Schema, type Effect } from "effect"
import type { ClusterId } from "../domain/cluster.ts"
import type { Kind } from "../domain/kind.ts"
import type { ResourceCondition, Spec } from "../domain/resource.ts"

/** The labels and annotation every object Fabric creates carries (docs/architecture.md, Names). */
export const managedByLabel = "app.kubernetes.io/managed-by"
export const managedByValue = "fabric"
export const projectLabel = "fabric.demeter.run/project"
export const accountAnnotation = "fabric.demeter.run/account"
export const generationAnnotation = "fabric.demeter.run/generation"
/** On a resource's object: which resource it is (its project is `projectLabel`). */
export const resourceLabel = "fabric.demeter.run/resource"

/** Fabric's field manager for server-side apply: the fields of a resource's object it owns. */
export const fieldManager = "fabric"

export interface ManagedNamespace {
  readonly name: string
  readonly projectId: string
  readonly accountId: string
  readonly generation: number
}

/** The custom object Fabric keeps in a project's namespace for one resource (ONE generation of it). */
export interface ManagedObject {
  readonly kind: Kind
  readonly namespace: string
  readonly name: string
  readonly resourceId: string
  readonly projectId: string
  readonly accountId: string
  /** Fabric's generation of the resource (annotation), not the object's own metadata.generation. */
  readonly generation: number
  readonly spec: Spec
}

/** What the cluster shows of one of Fabric's objects. */
export interface ObjectStatus {
  /** The object's metadata.generation: the apiserver bumps it on every change of the spec. */
  readonly objectGeneration: number
  /** Its status.conditions, as the kind's operator in the cluster wrote them (none without one). */
  readonly conditions: ReadonlyArray<ResourceCondition>
}

/** One of Fabric's objects as a listing shows it (what drift repair compares with the desired state). */
export interface ListedObject extends ObjectStatus {
  readonly namespace: string
  readonly name: string
  readonly resourceId: string
  /** The generation annotation, 0 when missing. */
  readonly generation: number
  readonly spec: unknown
}

/** An existing object with a resource's name that Fabric does not own: never adopted, never touched. */
export class ObjectConflict extends Schema.TaggedError<ObjectConflict>()("ObjectConflict", {
  cluster: Schema.String,
  namespace: Schema.String,
  kind: Schema.String,
  name: Schema.String,
}) {}

/** The project's namespace is not there (yet): its object cannot be applied before it is. */
export class NamespaceMissing extends Schema.TaggedError<NamespaceMissing>()("NamespaceMissing", {
  cluster: Schema.String,
  namespace: Schema.String,
}) {}

/** The cluster does not serve the kind (its CRD is not installed), though discovery said it did. */
export class KindNotServed extends Schema.TaggedError<KindNotServed>()("KindNotServed", {
  cluster: Schema.String,
  kind: Schema.String,
}) {}

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

export const objectLabelsFor = (o: ManagedObject): Record<string, string> => ({
  [managedByLabel]: managedByValue, [projectLabel]: o.projectId, [resourceLabel]: o.resourceId,
})

export const objectAnnotationsFor = (o: ManagedObject): Record<string, string> => ({
  [accountAnnotation]: o.accountId, [generationAnnotation]: String(o.generation),
})

/** True when the labels say the object is this resource's. */
export const isObjectOf = (labels: Readonly<Record<string, string>> | undefined, o: Pick<ManagedObject, "projectId" | "resourceId">): boolean =>
  isOwnedBy(labels, o.projectId) && labels?.[resourceLabel] === o.resourceId

/** What the daemon needs from ONE cluster. */
export class Cluster extends Context.Service<Cluster, {
  readonly id: ClusterId
  /** Creates the namespace, or confirms ours exists; a foreign one with that name is a conflict. */
  readonly ensureNamespace: (ns: ManagedNamespace) => Effect.Effect<"created" | "unchanged", NamespaceConflict | ClusterUnavailable | ClusterRefused>
  /** Starts deletion of OUR namespace; "absent" once it is really gone; a foreign one is a conflict. */
  readonly deleteNamespace: (ns: ManagedNamespace) => Effect.Effect<"deleting" | "absent", NamespaceConflict | ClusterUnavailable | ClusterRefused>
  /** Every namespace carrying Fabric's managed-by label. */
  readonly listManaged: () => Effect.Effect<ReadonlyArray<ManagedNamespace>, ClusterUnavailable | ClusterRefused>

  /** The names of those of `kinds` this cluster serves now (API discovery of their group versions). */
  readonly servedKinds: (kinds: ReadonlyArray<Kind>) => Effect.Effect<ReadonlySet<string>, ClusterUnavailable | ClusterRefused>
  /**
   * Makes the resource's object what `object` says: created when absent, else server-side
   * applied (field manager `fabric`) when its spec, labels or generation differ; never an
   * object without Fabric's labels for this resource (ObjectConflict). Answers what it shows then.
   */
  readonly applyObject: (object: ManagedObject) => Effect.Effect<ObjectStatus, ObjectConflict | NamespaceMissing | KindNotServed | ClusterUnavailable | ClusterRefused>
  /** Starts deletion of OUR object; "absent" once it is really gone; a foreign one is a conflict. */
  readonly deleteObject: (object: ManagedObject) => Effect.Effect<"deleting" | "absent", ObjectConflict | ClusterUnavailable | ClusterRefused>
  /** Every object of the kind, in any namespace, carrying Fabric's managed-by label. */
  readonly listManagedObjects: (kind: Kind) => Effect.Effect<ReadonlyArray<ListedObject>, KindNotServed | ClusterUnavailable | ClusterRefused>
}>()("fabric/Cluster") {}
