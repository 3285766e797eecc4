// GET /v1/kinds over HTTP: the catalogue as deploy/crds/ defines it, each kind with its schema;
// 401 without a token, 405 for another method.
import { Effect } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { defaultCrdDirectory, readCrdDirectory } from "../../adapters/catalogue/crd-files.ts"
import { stubApp } from "../../tests/support/stub-app.ts"

const catalogue = await Effect.runPromise(readCrdDirectory(defaultCrdDirectory))
const fabric = stubApp({}, catalogue)
test.after(() => fabric.dispose())

test("every kind of the catalogue, with its apiVersion, plural and openAPIV3Schema", async () => {
  const response = await fabric.request("/v1/kinds")
  assert.is(response.status, 200)
  const { kinds } = (await response.json()) as { kinds: Array<{ kind: string; apiVersion: string; plural: string; schema: any }> }
  assert.equal(kinds.map((k) => k.kind), ["CardanoNodePort", "KupoPort"])
  const kupo = kinds.find((k) => k.kind === "KupoPort")!
  assert.is(kupo.apiVersion, "demeter.run/v1alpha1")
  assert.is(kupo.plural, "kupoports")
  assert.equal(kupo.schema.properties.spec.required, ["network", "pruneUtxo"])
  assert.equal(kupo.schema.properties.spec.properties.network.enum, ["mainnet", "preprod", "preview"])
  assert.equal(fabric.work(), [], "the catalogue is read without any management call")
})

test("no token: 401; another method: 405 with Allow", async () => {
  assert.is((await fabric.app.request("/v1/kinds")).status, 401)
  const post = await fabric.request("/v1/kinds", { method: "POST" })
  assert.is(post.status, 405)
  assert.is(post.headers.get("allow"), "GET, HEAD")
})

test.run()
