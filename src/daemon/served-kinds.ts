// Which kinds of the catalogue this cluster serves, as API discovery last said (at start and at
// every drift pass), and what the daemon last told management about each resource, so that a
// resource of a kind the cluster does not serve is reported Unavailable once per generation (not
// in a loop), and one whose object's conditions changed is reported again.
import { Effect } from "effect"
import type { ResourceCondition } from "../domain/resource.ts"
import { Cluster } from "../services/cluster.ts"
import { KindCatalogue } from "../services/kind-catalogue.ts"

export class ServedKinds {
  #served: ReadonlySet<string> = new Set()
  /** False until discovery has answered once: until then nothing is known to be unserved. */
  discovered = false
  /** Resource id → the generation reported Unavailable. */
  readonly #unavailable = new Map<string, number>()
  /** Resource id → the conditions last reported with Ready (as JSON). */
  readonly #conditions = new Map<string, string>()

  /** What discovery last said, for the heartbeat; undefined before it has answered. */
  list(): ReadonlyArray<string> | undefined {
    return this.discovered ? [...this.#served].sort() : undefined
  }

  has(kind: string): boolean {
    return this.#served.has(kind)
  }

  /** The kinds discovery found now; answers those that appeared since the last time. */
  replace(served: ReadonlySet<string>): ReadonlyArray<string> {
    const appeared = [...served].filter((k) => !this.#served.has(k))
    this.#served = served
    this.discovered = true
    return appeared
  }

  /** Discovery is stale: the kind's objects answer NotFound. */
  forget(kind: string): void {
    this.#served = new Set([...this.#served].filter((k) => k !== kind))
  }

  /** True once per resource generation: whether Unavailable is still to be reported. */
  firstUnavailable(resourceId: string, generation: number): boolean {
    if (this.#unavailable.get(resourceId) === generation) return false
    this.#unavailable.set(resourceId, generation)
    return true
  }

  /** Whether the resource was last reported Unavailable (its object missing is then no drift). */
  wasUnavailable(resourceId: string): boolean {
    return this.#unavailable.has(resourceId)
  }

  /** Records what a Ready report said; true when the conditions differ from the last report. */
  conditionsChanged(resourceId: string, conditions: ReadonlyArray<ResourceCondition>): boolean {
    const text = JSON.stringify(conditions)
    if (this.#conditions.get(resourceId) === text) return false
    this.#conditions.set(resourceId, text)
    this.#unavailable.delete(resourceId)
    return true
  }

  /** A resource reported Deleted: nothing more to remember of it. */
  forgetResource(resourceId: string): void {
    this.#unavailable.delete(resourceId)
    this.#conditions.delete(resourceId)
  }
}

/** Asks API discovery which kinds the cluster serves now; logs the kinds that appeared. */
export const discoverKinds = (served: ServedKinds) =>
  Effect.gen(function* () {
    const cluster = yield* Cluster
    const catalogue = yield* KindCatalogue
    const now = yield* cluster.servedKinds(catalogue.kinds)
    const appeared = served.replace(now)
    if (appeared.length > 0) yield* Effect.logInfo("kinds served by the cluster", { cluster: cluster.id, appeared, served: [...now] })
  })

