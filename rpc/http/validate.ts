// Boundary validation with Effect Schema (through Standard Schema): a failure is an
// InvalidRequest listing every issue with its path, thrown before the handler runs.
import { sValidator } from "@hono/standard-validator"
import { Schema } from "effect"
import type { ValidationTargets } from "hono"
import { InvalidRequest } from "../../src/domain/errors.ts"

export const validate = <Target extends keyof ValidationTargets, S extends Schema.Decoder<unknown>>(target: Target, schema: S) =>
  sValidator(target, Schema.toStandardSchemaV1(schema), (result) => {
    if (!result.success) {
      const issues = result.error.map((issue) => ({
        path: [target === "json" ? "body" : target, ...(issue.path ?? []).map((p) => String(typeof p === "object" ? p.key : p))].join("."),
        message: issue.message,
      }))
      throw new InvalidRequest({ message: `invalid ${target === "json" ? "body" : target}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues })
    }
  })
