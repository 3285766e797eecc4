// A kind's spec schema as JSON Schema 2020-12 for the OpenAPI document: what Fabric accepts, as a
// value and as a merge patch.
import { test } from "uvu"
import * as assert from "uvu/assert"
import { specJsonSchema, type SpecSchema } from "./kind.ts"

const spec: SpecSchema = {
  type: "object",
  required: ["network"],
  properties: {
    network: { type: "string", enum: ["mainnet", "preprod"] },
    ratio: { type: "number", minimum: 0, exclusiveMinimum: true, maximum: 1 },
    note: { type: "string", nullable: true },
    tags: { type: "array", items: { type: "string" } },
    labels: { type: "object", additionalProperties: { type: "string" } },
    status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
  },
}

test("as a value: required kept, undeclared fields refused, nullable a null type, exclusive bounds as numbers", () => {
  assert.equal(specJsonSchema(spec), {
    type: "object", required: ["network"], additionalProperties: false,
    properties: {
      network: { type: "string", enum: ["mainnet", "preprod"] },
      ratio: { type: "number", exclusiveMinimum: 0, maximum: 1 },
      note: { type: ["string", "null"] },
      tags: { type: "array", items: { type: "string" } },
      labels: { type: "object", properties: {}, additionalProperties: { type: "string" } },
      status: { type: "object", additionalProperties: true },
    },
  })
})

test("as a merge patch: nothing required, every member may be null, arrays are values", () => {
  const patch = specJsonSchema(spec, true) as { required?: unknown; properties: Record<string, unknown> }
  assert.is(patch.required, undefined)
  assert.equal(patch.properties.network, { anyOf: [{ type: "string", enum: ["mainnet", "preprod"] }, { type: "null" }] })
  assert.equal(patch.properties.tags, { anyOf: [{ type: "array", items: { type: "string" } }, { type: "null" }] })
})

test.run()
