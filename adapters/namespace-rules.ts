// What every Cluster layer (live and simulated) applies the same way, so the contract suite can
// hold them to one behaviour: namespaces' names and labels, and the custom objects' labels,
// annotations and conditions.
import { Effect } from "effect"
import { jsonEqual } from "../src/domain/json.ts"
import { dns1123Rule, isDns1123Label } from "../src/domain/names.ts"
import type { ClusterId } from "../src/domain/cluster.ts"
import type { ResourceCondition } from "../src/domain/resource.ts"
import {
  accountAnnotation,
  annotationsFor,
  ClusterUnavailable,
  generationAnnotation,
  isOwnedBy,
  labelsFor,
  managedByLabel,
  managedByValue,
  NamespaceConflict,
  objectAnnotationsFor,
  objectLabelsFor,
  projectLabel,
  resourceLabel,
  type ListedObject,
  type ManagedNamespace,
  type ManagedObject,
} from "../src/services/cluster.ts"

type Metadata = Readonly<Record<string, string>> | undefined

/**
 * A name that is not a DNS-1123 label is a bug upstream (`namespaceFor` only makes valid ones and
 * the RPC edge validates), not a cluster condition: retrying cannot fix it and it is neither a
 * conflict nor an outage. So every layer dies with this defect before sending anything, instead
 * of reporting a ClusterUnavailable that a daemon would retry forever.
 */
class InvalidNamespaceName extends Error {
  readonly namespace: string
  constructor(namespace: string) {
    super(`"${namespace}" is not a valid namespace name (${dns1123Rule})`)
    this.name = "InvalidNamespaceName"
    this.namespace = namespace
  }
}

export const requireValidName = (name: string): Effect.Effect<void> =>
  isDns1123Label(name) ? Effect.void : Effect.die(new InvalidNamespaceName(name))

/** Carries Fabric's managed-by label (for any project): what listManaged selects. */
export const isManagedByFabric = (labels: Metadata): boolean => labels?.[managedByLabel] === managedByValue

/** Label selector for the same set, as the apiserver takes it. */
export const managedSelector = `${managedByLabel}=${managedByValue}`

/** What Fabric writes on a project's namespace: its labels and annotations. */
export const managedMetadataFor = (ns: ManagedNamespace) => ({ labels: labelsFor(ns), annotations: annotationsFor(ns) })

const generationOf = (annotations: Metadata): number => {
  const generation = Number(annotations?.[generationAnnotation])
  return Number.isSafeInteger(generation) ? generation : 0
}

/** Reads back what managedMetadataFor wrote. */
export const managedNamespaceFrom = (name: string, labels: Metadata, annotations: Metadata): ManagedNamespace => ({
  name,
  projectId: labels?.[projectLabel] ?? "",
  accountId: annotations?.[accountAnnotation] ?? "",
  generation: generationOf(annotations),
})

/** A namespace by that name that is not this project's is never adopted nor touched: a conflict. */
export const requireOwned = (cluster: ClusterId, ns: ManagedNamespace, labels: Metadata): Effect.Effect<void, NamespaceConflict> =>
  isOwnedBy(labels, ns.projectId) ? Effect.void : Effect.fail(new NamespaceConflict({ cluster, namespace: ns.name }))

/** Ours, but being deleted: it can be ensured again once it is gone, an outage to wait out. */
export const stillTerminating = (cluster: ClusterId, name: string) =>
  new ClusterUnavailable({ cluster, reason: `namespace "${name}" is Terminating (being deleted); it can be created again once it is gone, retry later` })

/** The parts of a custom object (as a layer reads it) that a listing reports. */
export interface ObjectFields {
  readonly namespace: string
  readonly name: string
  readonly labels: Metadata
  readonly annotations: Metadata
  readonly spec: unknown
  readonly generation: number
  readonly conditions: ReadonlyArray<ResourceCondition>
}

/** Reads back what objectLabelsFor / objectAnnotationsFor wrote. */
export const listedObjectFrom = (o: ObjectFields): ListedObject & { readonly labels: Metadata; readonly annotations: Metadata } => ({
  namespace: o.namespace, name: o.name, resourceId: o.labels?.[resourceLabel] ?? "", generation: generationOf(o.annotations),
  spec: o.spec, objectGeneration: o.generation, conditions: o.conditions, labels: o.labels, annotations: o.annotations,
})

/** Whether an object of ours differs from what `desired` asks (its spec, labels or annotations): then it is applied. */
export const objectNeedsApply = (current: { readonly spec: unknown; readonly labels: Metadata; readonly annotations: Metadata }, desired: ManagedObject): boolean =>
  !jsonEqual(current.spec, desired.spec)
  || Object.entries(objectLabelsFor(desired)).some(([k, v]) => current.labels?.[k] !== v)
  || Object.entries(objectAnnotationsFor(desired)).some(([k, v]) => current.annotations?.[k] !== v)

/** An object's status.conditions as Fabric reports them (anything else there is ignored). */
export const conditionsOf = (status: unknown): ReadonlyArray<ResourceCondition> => {
  const conditions = (status as { conditions?: unknown } | undefined)?.conditions
  if (!Array.isArray(conditions)) return []
  return conditions.flatMap((c: { type?: unknown; status?: unknown; reason?: unknown; message?: unknown }) =>
    typeof c?.type === "string" && typeof c.status === "string"
      ? [{ type: c.type, status: c.status, ...(typeof c.reason === "string" ? { reason: c.reason } : {}), ...(typeof c.message === "string" ? { message: c.message } : {}) }]
      : [])
}
