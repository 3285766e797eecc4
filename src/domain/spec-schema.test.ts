// The spec validator against the subset of OpenAPI v3 the catalogue's kinds use: every rule, the
// paths of the issues it reports, and merge patches (required fields may be absent, null removes).
import { test } from "uvu"
import * as assert from "uvu/assert"
import type { SpecSchema } from "./kind.ts"
import { checkValue } from "./spec-schema.ts"

const spec: SpecSchema = {
  type: "object",
  required: ["network", "version"],
  properties: {
    network: { type: "string", enum: ["mainnet", "preprod"] },
    version: { type: "string", pattern: "^[0-9]+\\.[0-9]+$", maxLength: 8 },
    tier: { type: "integer", minimum: 0, maximum: 3 },
    ratio: { type: "number", minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true },
    patterns: { type: "array", maxItems: 2, items: { type: "string", minLength: 1 } },
    labels: { type: "object", additionalProperties: { type: "string" } },
    extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    limits: { type: "object", properties: { rps: { type: "integer" } } },
    note: { type: "string", nullable: true },
  },
}

const issues = (value: unknown, patch = false) => checkValue(spec, value, "body.spec", { patch }).map((i) => `${i.path}: ${i.message}`)

test("a conforming value has no issues", () => {
  assert.equal(issues({ network: "mainnet", version: "10.1", tier: 3, ratio: 0.5, patterns: ["x"], labels: { a: "b" }, extra: { any: [1, { deep: true }] }, limits: { rps: 5 }, note: null }), [])
})

test("required fields, each named by its path", () => {
  assert.equal(issues({}), ["body.spec.network: is required", "body.spec.version: is required"])
})

test("types: a wrong type is named with the type it must be; integers are whole numbers", () => {
  assert.equal(issues({ network: 1, version: "1.0", tier: 1.5 }), ["body.spec.network: must be a string, not an integer", "body.spec.tier: must be an integer, not a number"])
  assert.equal(issues([]), ["body.spec: must be an object, not an array"])
  assert.equal(issues(null), ["body.spec: must be an object, not null"])
  assert.equal(issues({ network: "mainnet", version: "1.0", limits: { rps: "5" } }), ["body.spec.limits.rps: must be an integer, not a string"])
})

test("enum, pattern, lengths in code points, ranges (inclusive and exclusive)", () => {
  assert.equal(issues({ network: "testnet", version: "1.0" }), ['body.spec.network: must be one of "mainnet", "preprod"'])
  assert.equal(issues({ network: "mainnet", version: "v1" }), ["body.spec.version: must match ^[0-9]+\\.[0-9]+$"])
  assert.equal(issues({ network: "mainnet", version: "12345.678" }), ["body.spec.version: must be at most 8 characters"])
  assert.equal(issues({ network: "mainnet", version: "1.0", tier: -1 }), ["body.spec.tier: must be at least 0"])
  assert.equal(issues({ network: "mainnet", version: "1.0", tier: 4 }), ["body.spec.tier: must be at most 3"])
  assert.equal(issues({ network: "mainnet", version: "1.0", ratio: 0 }), ["body.spec.ratio: must be greater than 0"])
  assert.equal(issues({ network: "mainnet", version: "1.0", ratio: 1 }), ["body.spec.ratio: must be less than 1"])
})

test("arrays: item count, each item by its index", () => {
  assert.equal(issues({ network: "mainnet", version: "1.0", patterns: ["a", "", 3] }), [
    "body.spec.patterns: must have at most 2 items",
    "body.spec.patterns.1: must be at least 1 character",
    "body.spec.patterns.2: must be a string, not an integer",
  ])
})

test("an undeclared field is refused (Kubernetes would prune it); maps and preserve-unknown-fields take any key", () => {
  assert.equal(issues({ network: "mainnet", version: "1.0", colour: "red" }), [
    "body.spec.colour: is not a field here (the fields are network, version, tier, ratio, patterns, labels, extra, limits, note)",
  ])
  assert.equal(issues({ network: "mainnet", version: "1.0", labels: { a: 1 } }), ["body.spec.labels.a: must be a string, not an integer"])
  assert.equal(issues({ network: "mainnet", version: "1.0", limits: { burst: 1 } }), ["body.spec.limits.burst: is not a field here (the fields are rps)"])
})

test("a merge patch: required fields may be absent, null removes any declared field, nested objects are patches", () => {
  assert.equal(issues({ tier: 2 }, true), [])
  assert.equal(issues({ tier: null, network: null, limits: { rps: null } }, true), [])
  assert.equal(issues({ tier: 9, colour: null }, true), ["body.spec.tier: must be at most 3", "body.spec.colour: is not a field here (the fields are network, version, tier, ratio, patterns, labels, extra, limits, note)"])
  // Arrays replace what was there: their items are values, checked in full.
  assert.equal(issues({ patterns: [null] }, true), ["body.spec.patterns.0: must be a string, not null"])
})

test.run()
