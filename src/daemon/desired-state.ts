// What this cluster should hold, as far as the daemon has taken it on (handled, or being handled
// and tried again until its report is out): the newest desired state per project and per
// resource. Rebuilt after a restart from the compacted fabric.projects and fabric.resources topics.
import { Schema } from "effect"
import type { Kind } from "../domain/kind.ts"
import { DesiredNamespace, DesiredResource } from "../domain/messages.ts"
import type { ManagedNamespace, ManagedObject } from "../services/cluster.ts"
import { isDns1123Label } from "../domain/names.ts"

const decode = Schema.decodeUnknownExit(Schema.fromJsonString(DesiredNamespace))

/** The desired state in a message, or why it cannot be used (for the DLQ). */
export const decodeDesired = (value: string): { ok: true; desired: DesiredNamespace } | { ok: false; reason: string } => {
  const decoded = decode(value)
  if (decoded._tag === "Failure") return { ok: false, reason: `undecodable desired state: ${String(decoded.cause)}` }
  if (!isDns1123Label(decoded.value.namespace)) return { ok: false, reason: `namespace ${JSON.stringify(decoded.value.namespace)} is not a DNS-1123 label` }
  return { ok: true, desired: decoded.value }
}

const decodeResource = Schema.decodeUnknownExit(Schema.fromJsonString(DesiredResource))

/** The desired state of a resource in a message, or why it cannot be used (for the DLQ). */
export const decodeDesiredResource = (value: string): { ok: true; desired: DesiredResource } | { ok: false; reason: string } => {
  const decoded = decodeResource(value)
  if (decoded._tag === "Failure") return { ok: false, reason: `undecodable desired resource: ${String(decoded.cause)}` }
  for (const [what, name] of [["namespace", decoded.value.namespace], ["name", decoded.value.name]] as const) {
    if (!isDns1123Label(name)) return { ok: false, reason: `${what} ${JSON.stringify(name)} is not a DNS-1123 label` }
  }
  return { ok: true, desired: decoded.value }
}

/** The custom object, with Fabric's labels and annotations, that a resource's desired state asks for. */
export const managedObjectOf = (d: DesiredResource, kind: Kind): ManagedObject => ({
  kind, namespace: d.namespace, name: d.name, resourceId: d.resourceId, projectId: d.projectId, accountId: d.accountId,
  generation: d.generation, spec: d.spec,
})

/** Keeps the newest generation of each key (a redelivered older message changes nothing). */
const keepNewest = <A extends { readonly generation: number }>(map: Map<string, A>, key: string, next: A) => {
  const current = map.get(key)
  if (current === undefined || next.generation >= current.generation) map.set(key, next)
}

/** The namespace, with Fabric's labels and annotations, that a desired state asks for. */
export const managedNamespaceOf = (d: DesiredNamespace): ManagedNamespace =>
  ({ name: d.namespace, projectId: d.projectId, accountId: d.accountId, generation: d.generation })

export class DesiredState {
  readonly #byProject = new Map<string, DesiredNamespace>()
  readonly #byResource = new Map<string, DesiredResource>()
  /**
   * Projects (and resources, by id) whose last report for their current generation was not the outcome it asks for:
   * Failed (refused, or a foreign namespace in the way), or a deletion the drift check started
   * itself. Once the cluster shows the outcome (the namespace in place, or gone), the drift check
   * reports it: nothing else would, and the project would wait for this cluster forever.
   */
  readonly unsettled = new Set<string>()

  /** Keeps the newest generation of each project (a redelivered older message changes nothing). */
  apply(desired: DesiredNamespace): void {
    keepNewest(this.#byProject, desired.projectId, desired)
  }

  /** The same for a resource. */
  applyResource(desired: DesiredResource): void {
    keepNewest(this.#byResource, desired.resourceId, desired)
  }

  resource(resourceId: string): DesiredResource | undefined {
    return this.#byResource.get(resourceId)
  }

  /** Every resource this daemon knows of, live or deleted (of one project, when given). */
  resources(projectId?: string): ReadonlyArray<DesiredResource> {
    const all = [...this.#byResource.values()]
    return projectId === undefined ? all : all.filter((r) => r.projectId === projectId)
  }

  get(projectId: string): DesiredNamespace | undefined {
    return this.#byProject.get(projectId)
  }

  /** Every project this daemon knows of, live or deleted. */
  projectIds(): ReadonlyArray<string> {
    return [...this.#byProject.keys()]
  }

  /** Projects whose namespace should exist in this cluster. */
  live(): ReadonlyArray<DesiredNamespace> {
    return [...this.#byProject.values()].filter((d) => !d.deleted)
  }

  /** Projects whose namespace should be gone from this cluster. */
  deleted(): ReadonlyArray<DesiredNamespace> {
    return [...this.#byProject.values()].filter((d) => d.deleted)
  }
}
