// Request schemas: validated at the boundary, before anything runs (docs/api.md). The same schemas
// give the typed client its input types and the OpenAPI document (rpc/routes/openapi-document.ts) its parameters;
// Effect emits a JSON Schema `pattern` only for `u`-flag regular expressions, hence the flags.
import { Schema } from "effect"
import { AccountId } from "../../src/domain/account.ts"
import { ProjectId } from "../../src/domain/project.ts"

const trimmedName = (what: string) =>
  Schema.String.check(
    Schema.isMinLength(1, { message: `${what} must not be empty` }),
    Schema.isMaxLength(63, { message: `${what} must be at most 63 characters` }),
    Schema.isPattern(/^\S([\s\S]*\S)?$/u, { message: `${what} must not start or end with white space` }),
    Schema.isPattern(/^[^\u0000-\u001f\u007f]*$/u, { message: `${what} must not contain control characters` }),
  )

export const CreateAccountBody = Schema.Struct({
  name: trimmedName("name"),
  email: Schema.String.check(
    Schema.isMaxLength(254, { message: "email must be at most 254 characters" }),
    Schema.isPattern(/^[^\s@]+@[^\s@]+\.[^\s@]+$/u, { message: "email must be an address like name@example.com" }),
  ),
})

export const CreateProjectBody = Schema.Struct({ name: trimmedName("name") })

export const AccountIdParam = Schema.Struct({ accountId: AccountId })

export const ProjectIdParam = Schema.Struct({ projectId: ProjectId })

export const ListProjectsQuery = Schema.Struct({
  limit: Schema.optional(Schema.String.check(Schema.isPattern(/^(100|[1-9][0-9]?)$/u, { message: "limit must be a whole number from 1 to 100" }))),
  cursor: Schema.optional(Schema.String.check(
    Schema.isMaxLength(512, { message: "cursor is too long" }),
    Schema.isPattern(/^[A-Za-z0-9+/]+$/u, { message: "cursor is not one this API returned" }),
  )),
})
