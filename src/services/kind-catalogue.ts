import { Context, Layer, Schema } from "effect"
import type { Kind } from "../domain/kind.ts"

/** The catalogue could not be read at start (a missing directory, a CRD Fabric cannot validate): the process does not start. */
export class CatalogueUnreadable extends Schema.TaggedError<CatalogueUnreadable>()("CatalogueUnreadable", {
  message: Schema.String,
}) {}

/**
 * The kinds a project's resources may be (deploy/crds/, loaded once at start by
 * adapters/catalogue/crd-files.ts): what the API validates specs against and what each daemon
 * looks for in its cluster's API discovery.
 */
export class KindCatalogue extends Context.Service<KindCatalogue, {
  /** In the order of their names. */
  readonly kinds: ReadonlyArray<Kind>
  readonly find: (kind: string) => Kind | undefined
}>()("fabric/KindCatalogue") {
  /** A catalogue of the given kinds (the file adapter's result, or a test's own). */
  static readonly layerOf = (kinds: ReadonlyArray<Kind>) => {
    const sorted = [...kinds].sort((a, b) => a.kind.localeCompare(b.kind))
    const byName = new Map(sorted.map((k) => [k.kind, k]))
    return Layer.succeed(KindCatalogue, KindCatalogue.of({ kinds: sorted, find: (kind) => byName.get(kind) }))
  }
}
