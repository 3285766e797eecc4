// Request schemas: validated at the boundary, before anything runs (docs/api.md). The same schemas
// give the typed client its input types and the OpenAPI document (rpc/routes/openapi-document.ts) its parameters;
// Effect emits a JSON Schema `pattern` only for `u`-flag regular expressions, hence the flags.
import { Schema } from "effect"
import { AccountId } from "../../src/domain/account.ts"
import { ProjectId } from "../../src/domain/project.ts"
import { ResourceId, ResourceName, Spec } from "../../src/domain/resource.ts"
import { cursorPattern } from "./cursor.ts"
import { isMaxCodePoints, isPlainText } from "./text.ts"

const trimmedName = (what: string) =>
  Schema.String.check(
    Schema.isMinLength(1, { message: `${what} must not be empty` }),
    isMaxCodePoints(63, what),
    Schema.isPattern(/^\S([\s\S]*\S)?$/u, { message: `${what} must not start or end with white space` }),
    isPlainText(what),
  )

export const CreateAccountBody = Schema.Struct({
  name: trimmedName("name"),
  email: Schema.String.check(
    isMaxCodePoints(254, "email"),
    isPlainText("email"),
    Schema.isPattern(/^[^\s@]+@[^\s@]+\.[^\s@]+$/u, { message: "email must be an address like name@example.com" }),
  ),
})

export const CreateProjectBody = Schema.Struct({ name: trimmedName("name") })

export const AccountIdParam = Schema.Struct({ accountId: AccountId })

export const ProjectIdParam = Schema.Struct({ projectId: ProjectId })

/** A page of a list (limit, signed cursor): projects of an account, resources of a project. */
export const ListPageQuery = Schema.Struct({
  limit: Schema.optional(Schema.String.check(Schema.isPattern(/^(100|[1-9][0-9]?)$/u, { message: "limit must be a whole number from 1 to 100" }))),
  // The shape only; its signature is checked by rpc/http/cursor.ts before the list is read.
  cursor: Schema.optional(Schema.String.check(
    Schema.isPattern(cursorPattern, { message: "invalid cursor: not one this API returned" }),
  )),
})

export const ListProjectsQuery = ListPageQuery

export const ResourceIdParam = Schema.Struct({ projectId: ProjectId, resourceId: ResourceId })

export const CreateResourceBody = Schema.Struct({
  kind: Schema.String.annotate({ description: "A kind of the catalogue (GET /v1/kinds)." }),
  name: Schema.optionalKey(ResourceName.annotate({ description: "The object's name in every cluster; `<kind in lowercase>-<6 random characters>` when absent." })),
  spec: Spec,
})

/** A JSON merge patch (RFC 7386) of the resource: only `spec` changes; its members merge into the spec, null removes one. */
export const PatchResourceBody = Schema.Struct({
  spec: Spec.annotate({ description: "A JSON merge patch of the spec: members merge in, null removes one; the merged spec must be valid for the kind." }),
})

// The /debug login form (rpc/routes/debug.ts reads it with parseBody: a wrong or missing token is
// the form again, not a 400); declared here for the OpenAPI document.
export const DebugLoginForm = Schema.Struct({ token: Schema.String.annotate({ description: "The operator token." }) })
