// Checks a JSON value against a kind's schema (the subset of ./kind.ts), the way the apiserver
// would, before anything is written: a bad spec is a 400 naming each offending field by its
// dotted path (`body.spec.network`, `body.spec.matchPatterns.2`), never a Failed cluster later.
// One deliberate difference: a field the schema does not declare is refused, where Kubernetes
// would prune it silently (the client would think it had set something it had not).
import type { ValidationIssue } from "./errors.ts"
import { isJsonObject as isObject, jsonEqual } from "./json.ts"
import type { SpecSchema } from "./kind.ts"

const typeOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : Number.isInteger(value) ? "integer" : typeof value

const hasType = (type: NonNullable<SpecSchema["type"]>, value: unknown): boolean => {
  switch (type) {
    case "object": return isObject(value)
    case "array": return Array.isArray(value)
    case "string": return typeof value === "string"
    case "boolean": return typeof value === "boolean"
    case "integer": return Number.isSafeInteger(value)
    case "number": return typeof value === "number" && Number.isFinite(value)
  }
}

// Lengths in code points, as JSON Schema counts them (and as docs/api.md counts names).
const codePoints = (s: string) => [...s].length

export interface CheckOptions {
  /**
   * The value is a JSON merge patch (RFC 7386) of an object of this schema: required fields may
   * be absent, a null removes a field (allowed for any declared one), nested objects are
   * patches too. Arrays and scalars replace what was there, so they are checked in full.
   */
  readonly patch?: boolean
}

/** Every issue of `value` against `schema`; `path` names the value (`body.spec`). Empty when it conforms. */
export const checkValue = (schema: SpecSchema, value: unknown, path: string, options: CheckOptions = {}): ReadonlyArray<ValidationIssue> => {
  const issues: ValidationIssue[] = []
  const issue = (at: string, message: string) => { issues.push({ path: at, message }) }

  const visit = (s: SpecSchema, v: unknown, at: string, patch: boolean): void => {
    if (v === null) {
      if (!s.nullable) issue(at, s.type === undefined ? "must not be null" : `must be ${article(s.type)}, not null`)
      return
    }
    if (s.type !== undefined && !hasType(s.type, v)) {
      issue(at, `must be ${article(s.type)}, not ${article(typeOf(v))}`)
      return
    }
    if (s.enum !== undefined && !s.enum.some((e) => jsonEqual(e, v))) issue(at, `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}`)
    if (typeof v === "number") {
      if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) issue(at, `must be ${s.exclusiveMinimum ? "greater than" : "at least"} ${s.minimum}`)
      if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) issue(at, `must be ${s.exclusiveMaximum ? "less than" : "at most"} ${s.maximum}`)
    }
    if (typeof v === "string") {
      if (s.minLength !== undefined && codePoints(v) < s.minLength) issue(at, `must be at least ${plural(s.minLength, "character")}`)
      if (s.maxLength !== undefined && codePoints(v) > s.maxLength) issue(at, `must be at most ${plural(s.maxLength, "character")}`)
      if (s.pattern !== undefined && !new RegExp(s.pattern, "u").test(v)) issue(at, `must match ${s.pattern}`)
    }
    if (Array.isArray(v)) {
      if (s.minItems !== undefined && v.length < s.minItems) issue(at, `must have at least ${plural(s.minItems, "item")}`)
      if (s.maxItems !== undefined && v.length > s.maxItems) issue(at, `must have at most ${plural(s.maxItems, "item")}`)
      // A patch replaces an array whole: its items are checked as values, not as patches.
      if (s.items !== undefined) v.forEach((item, i) => visit(s.items!, item, `${at}.${i}`, false))
    }
    if (isObject(v)) {
      if (s["x-kubernetes-preserve-unknown-fields"]) return
      const properties = s.properties ?? {}
      if (!patch) for (const name of s.required ?? []) if (v[name] === undefined) issue(`${at}.${name}`, "is required")
      for (const [name, field] of Object.entries(v)) {
        const declared = properties[name]
        const fieldPath = `${at}.${name}`
        if (declared !== undefined) {
          // A null in a patch removes the field; whether it may go is for the merged value to say.
          if (!(patch && field === null)) visit(declared, field, fieldPath, patch)
        } else if (typeof s.additionalProperties === "object") {
          if (!(patch && field === null)) visit(s.additionalProperties, field, fieldPath, patch)
        } else if (s.additionalProperties !== true) {
          issue(fieldPath, `is not a field here${Object.keys(properties).length > 0 ? ` (the fields are ${Object.keys(properties).join(", ")})` : ""}`)
        }
      }
    }
  }

  visit(schema, value, path, options.patch ?? false)
  return issues
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`)
