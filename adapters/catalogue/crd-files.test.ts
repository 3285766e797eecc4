// The catalogue loaded from deploy/crds/ (what every process loads at start), and what it refuses:
// a CRD that uses a schema keyword Fabric cannot check, a cluster-scoped kind, a kind defined twice.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { specSchemaOf } from "../../src/domain/kind.ts"
import { checkValue } from "../../src/domain/spec-schema.ts"
import { defaultCrdDirectory, readCrdDirectory } from "./crd-files.ts"

const load = (directory: string) => Effect.runPromise(readCrdDirectory(directory))
const refusal = (directory: string) => Effect.runPromise(Effect.flip(readCrdDirectory(directory))).then((e) => e.message)

const shipped = await load(defaultCrdDirectory)
const crd = (overrides: (spec: any) => void) => {
  const definition = JSON.parse(JSON.stringify({
    apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "things.demeter.run" },
    spec: {
      group: "demeter.run", scope: "Namespaced", names: { kind: "Thing", plural: "things" },
      versions: [{ name: "v1alpha1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { n: { type: "integer" } } } } } } }],
    },
  }))
  overrides(definition)
  return definition
}
const directoryWith = (...definitions: unknown[]) => {
  const directory = mkdtempSync(join(tmpdir(), "fabric-crds-"))
  definitions.forEach((d, i) => writeFileSync(join(directory, `${i}.json`), JSON.stringify(d)))
  return directory
}

test("deploy/crds holds the catalogue: CardanoNodePort and KupoPort of demeter.run/v1alpha1", () => {
  assert.equal(shipped.map((k) => [k.kind, k.apiVersion, k.plural]), [
    ["CardanoNodePort", "demeter.run/v1alpha1", "cardanonodeports"],
    ["KupoPort", "demeter.run/v1alpha1", "kupoports"],
  ])
})

test("a shipped kind's spec schema has required fields, enums and ranges, checked with their paths", () => {
  const kupo = specSchemaOf(shipped.find((k) => k.kind === "KupoPort")!)
  assert.equal(checkValue(kupo, { network: "preprod", pruneUtxo: true, throughputTier: 1 }, "body.spec"), [])
  assert.equal(checkValue(kupo, { network: "testnet", throughputTier: 7 }, "body.spec").map((i) => i.path), ["body.spec.pruneUtxo", "body.spec.network", "body.spec.throughputTier"])
  const node = specSchemaOf(shipped.find((k) => k.kind === "CardanoNodePort")!)
  assert.equal(checkValue(node, { network: "mainnet", version: "10.1.4" }, "body.spec"), [])
  assert.equal(checkValue(node, { network: "mainnet", version: "latest" }, "body.spec").map((i) => i.message), ["must match ^[0-9]+\\.[0-9]+(\\.[0-9]+)?$"])
})

test("a schema keyword Fabric does not validate (anyOf) refuses the whole catalogue, naming the file", async () => {
  const directory = directoryWith(crd((d) => { d.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.n.anyOf = [{ type: "integer" }] }))
  try {
    assert.match(await refusal(directory), /0\.json: version v1alpha1: openAPIV3Schema uses what Fabric cannot validate: .*anyOf/s)
  } finally { rmSync(directory, { recursive: true }) }
})

test("a cluster-scoped kind, a spec that is not an object, a bad pattern, a kind defined twice: refused", async () => {
  const cases: Array<[unknown[], RegExp]> = [
    [[crd((d) => { d.spec.scope = "Cluster" })], /not a namespaced/],
    [[crd((d) => { d.spec.versions[0].schema.openAPIV3Schema.properties.spec.type = "string" })], /no properties\.spec of type object/],
    [[crd((d) => { d.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.n = { type: "string", pattern: "(" } })], /pattern "\(" is not a regular expression/],
    [[crd((d) => { d.metadata.name = "wrong.demeter.run" })], /metadata\.name must be things\.demeter\.run/],
    [[crd(() => {}), crd(() => {})], /1\.json: kind Thing is defined twice/],
    [[], /no \*\.json CustomResourceDefinition/],
  ]
  for (const [definitions, expected] of cases) {
    const directory = directoryWith(...definitions)
    try { assert.match(await refusal(directory), expected) } finally { rmSync(directory, { recursive: true }) }
  }
})

test.run()
