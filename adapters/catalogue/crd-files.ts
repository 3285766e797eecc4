// The catalogue from the CustomResourceDefinitions in a directory (deploy/crds/ by default,
// FABRIC_CRDS_DIR to use another): every *.json file is one CRD, read once at start. JSON, not
// YAML: kubectl applies it as it is, and no YAML parser is among Fabric's runtime dependencies.
// A file Fabric cannot use stops the start with a message naming it.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { kindFromDefinition, type Kind } from "../../src/domain/kind.ts"
import { CatalogueUnreadable, KindCatalogue } from "../../src/services/kind-catalogue.ts"

/** deploy/crds/ of this checkout (or image). */
export const defaultCrdDirectory = new URL("../../deploy/crds", import.meta.url).pathname

/** The kinds defined in `directory`, or why not. */
export const readCrdDirectory = (directory: string): Effect.Effect<ReadonlyArray<Kind>, CatalogueUnreadable> =>
  Effect.try({
    try: () => {
      const files = readdirSync(directory).filter((f) => f.endsWith(".json")).sort()
      if (files.length === 0) throw new Error(`no *.json CustomResourceDefinition in ${directory}`)
      const kinds: Kind[] = []
      for (const file of files) {
        const loaded = kindFromDefinition(JSON.parse(readFileSync(join(directory, file), "utf8")))
        if ("error" in loaded) throw new Error(`${join(directory, file)}: ${loaded.error}`)
        if (kinds.some((k) => k.kind === loaded.kind.kind)) throw new Error(`${join(directory, file)}: kind ${loaded.kind.kind} is defined twice`)
        kinds.push(loaded.kind)
      }
      return kinds
    },
    catch: (error) => new CatalogueUnreadable({ message: `the kind catalogue cannot be loaded: ${error instanceof Error ? error.message : String(error)}` }),
  })

/** KindCatalogue from the CRD files of `directory`. */
export const layer = (directory: string = defaultCrdDirectory) =>
  Layer.unwrap(Effect.map(readCrdDirectory(directory), KindCatalogue.layerOf))
