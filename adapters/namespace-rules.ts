// What every Cluster layer (live and simulated) applies the same way, so the contract suite can
// hold them to one behaviour.
import { Effect } from "effect"
import { dns1123Rule, isDns1123Label } from "../src/domain/names.ts"
import type { ClusterId } from "../src/domain/cluster.ts"
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
  projectLabel,
  type ManagedNamespace,
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

/** Reads back what managedMetadataFor wrote. */
export const managedNamespaceFrom = (name: string, labels: Metadata, annotations: Metadata): ManagedNamespace => {
  const generation = Number(annotations?.[generationAnnotation])
  return {
    name,
    projectId: labels?.[projectLabel] ?? "",
    accountId: annotations?.[accountAnnotation] ?? "",
    generation: Number.isSafeInteger(generation) ? generation : 0,
  }
}

/** A namespace by that name that is not this project's is never adopted nor touched: a conflict. */
export const requireOwned = (cluster: ClusterId, ns: ManagedNamespace, labels: Metadata): Effect.Effect<void, NamespaceConflict> =>
  isOwnedBy(labels, ns.projectId) ? Effect.void : Effect.fail(new NamespaceConflict({ cluster, namespace: ns.name }))

/** Ours, but being deleted: it can be ensured again once it is gone, an outage to wait out. */
export const stillTerminating = (cluster: ClusterId, name: string) =>
  new ClusterUnavailable({ cluster, reason: `namespace "${name}" is Terminating (being deleted); it can be created again once it is gone, retry later` })
