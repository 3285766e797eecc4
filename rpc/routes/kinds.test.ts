// GET /v1/kinds over HTTP: the catalogue as deploy/crds/ defines it, each kind with its schema;
// 401 without a token, 405 for another method.
import { Effect } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { defaultCrdDirectory, readCrdDirectory } from "../../adapters/catalogue/crd-files.ts"
import { stubApp } from "../../tests/support/stub-app.ts"

const catalogue = await Effect.runPromise(readCrdDirectory(defaultCrdDirectory))
const fabric = stubApp({
  list: () => Effect.succeed([
    { id: "a", phase: "Active", lastSeenAt: null, kinds: ["CardanoNodePort", "KupoPort"] },
    { id: "b", phase: "Active", lastSeenAt: null, kinds: ["CardanoNodePort"] },
    { id: "c", phase: "Unreachable", lastSeenAt: null, kinds: ["KupoPort"] },
    { id: "d", phase: "Active", lastSeenAt: null, kinds: null },
  ]),
}, catalogue)
test.after(() => fabric.dispose())

test("every kind of the catalogue, with its apiVersion, plural and openAPIV3Schema, and the Active clusters that serve it", async () => {
  const response = await fabric.request("/v1/kinds")
  assert.is(response.status, 200)
  const { kinds } = (await response.json()) as { kinds: Array<{ kind: string; apiVersion: string; plural: string; schema: any; clusters: string[] }> }
  assert.equal(kinds.map((k) => [k.kind, k.clusters]), [["CardanoNodePort", ["a", "b"]], ["KupoPort", ["a"]]])
  const kupo = kinds.find((k) => k.kind === "KupoPort")!
  assert.is(kupo.apiVersion, "demeter.run/v1alpha1")
  assert.is(kupo.plural, "kupoports")
  assert.equal(kupo.schema.properties.spec.required, ["network", "pruneUtxo"])
  assert.equal(kupo.schema.properties.spec.properties.network.enum, ["mainnet", "preprod", "preview"])
  assert.equal(fabric.work().map((c) => c.name), ["list"], "one read: the clusters")
})

test("no token: 401; another method: 405 with Allow", async () => {
  assert.is((await fabric.app.request("/v1/kinds")).status, 401)
  const post = await fabric.request("/v1/kinds", { method: "POST" })
  assert.is(post.status, 405)
  assert.is(post.headers.get("allow"), "GET, HEAD")
})

test("GET /openapi.json says each kind's spec schema for a resource's body: a creation is one kind, a patch a merge patch of one", async () => {
  const document = (await (await fabric.app.request("/openapi.json")).json()) as any
  const create = document.paths["/v1/projects/{projectId}/resources"].post.requestBody.content["application/json"].schema
  assert.equal(create.oneOf.map((b: any) => b.properties.kind.const), ["CardanoNodePort", "KupoPort"])
  const kupo = create.oneOf[1].properties.spec
  assert.equal(kupo.required, ["network", "pruneUtxo"])
  assert.is(kupo.additionalProperties, false)
  assert.equal(kupo.properties.throughputTier, { type: "integer", minimum: 0, maximum: 3, description: kupo.properties.throughputTier.description })
  const patch = document.paths["/v1/projects/{projectId}/resources/{resourceId}"].patch.requestBody.content["application/merge-patch+json"].schema
  assert.equal(patch.properties.spec.anyOf.map((s: any) => s.title), ["CardanoNodePort", "KupoPort"])
  assert.is(patch.properties.spec.anyOf[1].required, undefined)
})

test.run()
