// What this cluster should hold, as far as the daemon has taken it on (handled, or being handled
// and tried again until its report is out): the newest desired state per project. Rebuilt after
// a restart from the compacted fabric.projects topic.
import { Schema } from "effect"
import { DesiredNamespace } from "../domain/messages.ts"
import type { ManagedNamespace } from "../services/cluster.ts"
import { isDns1123Label } from "../domain/names.ts"

const decode = Schema.decodeUnknownExit(Schema.fromJsonString(DesiredNamespace))

/** The desired state in a message, or why it cannot be used (for the DLQ). */
export const decodeDesired = (value: string): { ok: true; desired: DesiredNamespace } | { ok: false; reason: string } => {
  const decoded = decode(value)
  if (decoded._tag === "Failure") return { ok: false, reason: `undecodable desired state: ${String(decoded.cause)}` }
  if (!isDns1123Label(decoded.value.namespace)) return { ok: false, reason: `namespace ${JSON.stringify(decoded.value.namespace)} is not a DNS-1123 label` }
  return { ok: true, desired: decoded.value }
}

/** The namespace, with Fabric's labels and annotations, that a desired state asks for. */
export const managedNamespaceOf = (d: DesiredNamespace): ManagedNamespace =>
  ({ name: d.namespace, projectId: d.projectId, accountId: d.accountId, generation: d.generation })

export class DesiredState {
  readonly #byProject = new Map<string, DesiredNamespace>()
  /**
   * Projects whose last report for their current generation was not the outcome it asks for:
   * Failed (refused, or a foreign namespace in the way), or a deletion the drift check started
   * itself. Once the cluster shows the outcome (the namespace in place, or gone), the drift check
   * reports it: nothing else would, and the project would wait for this cluster forever.
   */
  readonly unsettled = new Set<string>()

  /** Keeps the newest generation of each project (a redelivered older message changes nothing). */
  apply(desired: DesiredNamespace): void {
    const current = this.#byProject.get(desired.projectId)
    if (current === undefined || desired.generation >= current.generation) this.#byProject.set(desired.projectId, desired)
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
