// The catalogue's kinds: custom resources a project may own, each defined by a
// CustomResourceDefinition shipped in deploy/crds/ (docs/architecture.md, Resources). Fabric
// validates a resource's spec against the kind's openAPIV3Schema itself (./spec-schema.ts), so
// only the part of OpenAPI v3 that Fabric can check is accepted here: a CRD using anything else is
// refused when the catalogue loads, rather than half-checked.
import { Schema } from "effect"
import { isDns1123Label } from "./names.ts"

/** The subset of a structural OpenAPI v3 schema (as Kubernetes takes it in a CRD) that Fabric validates. */
export interface SpecSchema {
  readonly type?: "object" | "array" | "string" | "integer" | "number" | "boolean"
  readonly description?: string
  readonly enum?: ReadonlyArray<unknown>
  readonly nullable?: boolean
  readonly minimum?: number
  readonly maximum?: number
  readonly exclusiveMinimum?: boolean
  readonly exclusiveMaximum?: boolean
  readonly minLength?: number
  readonly maxLength?: number
  readonly pattern?: string
  readonly items?: SpecSchema
  readonly minItems?: number
  readonly maxItems?: number
  readonly required?: ReadonlyArray<string>
  readonly properties?: Readonly<Record<string, SpecSchema>>
  /** false (or absent, with `properties`): an unknown field is refused, where Kubernetes would prune it silently. */
  readonly additionalProperties?: boolean | SpecSchema
  /** The object takes any fields (Kubernetes keeps them): Fabric checks nothing below it. */
  readonly "x-kubernetes-preserve-unknown-fields"?: boolean
}

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** Decoded with onExcessProperty "error": a keyword outside the subset is a load error naming it. */
export const SpecSchemaCodec: Schema.Codec<SpecSchema> = Schema.Struct({
  type: Schema.optionalKey(Schema.Literals(["object", "array", "string", "integer", "number", "boolean"])),
  description: Schema.optionalKey(Schema.String),
  enum: Schema.optionalKey(Schema.Array(Schema.Unknown)),
  nullable: Schema.optionalKey(Schema.Boolean),
  minimum: Schema.optionalKey(Schema.Number),
  maximum: Schema.optionalKey(Schema.Number),
  exclusiveMinimum: Schema.optionalKey(Schema.Boolean),
  exclusiveMaximum: Schema.optionalKey(Schema.Boolean),
  minLength: Schema.optionalKey(NonNegativeInt),
  maxLength: Schema.optionalKey(NonNegativeInt),
  pattern: Schema.optionalKey(Schema.String),
  items: Schema.optionalKey(Schema.suspend((): Schema.Codec<SpecSchema> => SpecSchemaCodec)),
  minItems: Schema.optionalKey(NonNegativeInt),
  maxItems: Schema.optionalKey(NonNegativeInt),
  required: Schema.optionalKey(Schema.Array(Schema.String)),
  properties: Schema.optionalKey(Schema.Record(Schema.String, Schema.suspend((): Schema.Codec<SpecSchema> => SpecSchemaCodec))),
  additionalProperties: Schema.optionalKey(Schema.Union([Schema.Boolean, Schema.suspend((): Schema.Codec<SpecSchema> => SpecSchemaCodec)])),
  "x-kubernetes-preserve-unknown-fields": Schema.optionalKey(Schema.Boolean),
})

/** One kind of the catalogue, as `GET /v1/kinds` shows it and as the daemons apply it. */
export interface Kind {
  /** e.g. `KupoPort`: what a resource's `kind` names. */
  readonly kind: string
  readonly group: string
  readonly version: string
  /** `<group>/<version>`, the objects' apiVersion. */
  readonly apiVersion: string
  /** The REST resource name, e.g. `kupoports`: what discovery lists and RBAC grants. */
  readonly plural: string
  /** The whole openAPIV3Schema of the served version; a resource's spec is checked against `properties.spec`. */
  readonly schema: SpecSchema
}

export const KindRecord = Schema.Struct({
  kind: Schema.String,
  group: Schema.String,
  version: Schema.String,
  apiVersion: Schema.String,
  plural: Schema.String,
  schema: Schema.Record(Schema.String, Schema.Unknown).annotate({ description: "The kind's openAPIV3Schema, as its CustomResourceDefinition declares it." }),
  clusters: Schema.Array(Schema.String).annotate({ description: "The Active clusters that serve the kind, as their daemons' API discovery says: a resource of the kind runs there." }),
}).annotate({ identifier: "Kind", description: "A kind of the catalogue (a CustomResourceDefinition in deploy/crds/); its schema is what a resource's spec is validated against." })
export type KindRecord = typeof KindRecord.Type

/** A kind as `GET /v1/kinds` shows it: with the Active clusters that serve it. */
export const kindRecordOf = (kind: Kind, clusters: ReadonlyArray<{ readonly id: string; readonly phase: string; readonly kinds: ReadonlyArray<string> | null }>): KindRecord => ({
  ...kind, schema: { ...kind.schema }, clusters: clusters.filter((c) => c.phase === "Active" && c.kinds?.includes(kind.kind)).map((c) => c.id),
})

/** The parts of a CustomResourceDefinition the catalogue reads (the rest is the apiserver's). */
const CustomResourceDefinition = Schema.Struct({
  apiVersion: Schema.Literal("apiextensions.k8s.io/v1"),
  kind: Schema.Literal("CustomResourceDefinition"),
  metadata: Schema.Struct({ name: Schema.String }),
  spec: Schema.Struct({
    group: Schema.String,
    scope: Schema.Literal("Namespaced"),
    names: Schema.Struct({ kind: Schema.String, plural: Schema.String }),
    versions: Schema.Array(Schema.Struct({
      name: Schema.String,
      served: Schema.Boolean,
      storage: Schema.Boolean,
      schema: Schema.Struct({ openAPIV3Schema: Schema.Unknown }),
    })),
  }),
})

const decodeDefinition = Schema.decodeUnknownExit(CustomResourceDefinition, { errors: "all" })
const decodeSpecSchema = Schema.decodeUnknownExit(SpecSchemaCodec, { errors: "all", onExcessProperty: "error" })

/** Every `pattern` in the schema, for the check that each compiles. */
const patternsOf = (schema: SpecSchema): ReadonlyArray<string> => [
  ...(schema.pattern === undefined ? [] : [schema.pattern]),
  ...(schema.items ? patternsOf(schema.items) : []),
  ...Object.values(schema.properties ?? {}).flatMap(patternsOf),
  ...(typeof schema.additionalProperties === "object" ? patternsOf(schema.additionalProperties) : []),
]

/**
 * The kind a CustomResourceDefinition defines: its storage version (which must be served), and
 * a schema Fabric can validate, whose `spec` is an object. Otherwise why not, in words.
 */
export const kindFromDefinition = (definition: unknown): { readonly kind: Kind } | { readonly error: string } => {
  const crd = decodeDefinition(definition)
  if (crd._tag === "Failure") return { error: `not a namespaced apiextensions.k8s.io/v1 CustomResourceDefinition: ${String(crd.cause)}` }
  const { group, names, versions } = crd.value.spec
  if (crd.value.metadata.name !== `${names.plural}.${group}`) return { error: `metadata.name must be ${names.plural}.${group}` }
  if (!isDns1123Label(names.plural)) return { error: `spec.names.plural ${names.plural} is not a DNS-1123 label` }
  const version = versions.find((v) => v.storage)
  if (version === undefined || !version.served) return { error: "no served storage version" }
  const schema = decodeSpecSchema(version.schema.openAPIV3Schema)
  if (schema._tag === "Failure") return { error: `version ${version.name}: openAPIV3Schema uses what Fabric cannot validate: ${String(schema.cause)}` }
  const spec = schema.value.properties?.spec
  if (spec?.type !== "object") return { error: `version ${version.name}: openAPIV3Schema has no properties.spec of type object` }
  for (const pattern of patternsOf(schema.value)) {
    try { new RegExp(pattern, "u") } catch { return { error: `version ${version.name}: pattern ${JSON.stringify(pattern)} is not a regular expression` } }
  }
  return { kind: { kind: names.kind, group, version: version.name, apiVersion: `${group}/${version.name}`, plural: names.plural, schema: schema.value } }
}

/** The schema a resource's spec must satisfy. */
export const specSchemaOf = (kind: Kind): SpecSchema => kind.schema.properties!.spec!

type JsonSchemaObject = Record<string, unknown>

/**
 * A spec schema as JSON Schema 2020-12 (what an OpenAPI 3.1 document holds), saying what Fabric
 * accepts: an object with properties takes no others (Fabric refuses them), `nullable` is a
 * "null" type, exclusive bounds are numbers. As a merge patch (`patch`): no field is required, any
 * object member may be null (it removes the member), objects are patches too, arrays and scalars
 * are values.
 */
export const specJsonSchema = (schema: SpecSchema, patch = false): JsonSchemaObject => {
  const { nullable, exclusiveMinimum, exclusiveMaximum, minimum, maximum, items, required, properties, additionalProperties, "x-kubernetes-preserve-unknown-fields": preserve, type, ...rest } = schema
  const out: JsonSchemaObject = { ...rest }
  if (type !== undefined) out.type = nullable ? [type, "null"] : type
  if (minimum !== undefined) out[exclusiveMinimum ? "exclusiveMinimum" : "minimum"] = minimum
  if (maximum !== undefined) out[exclusiveMaximum ? "exclusiveMaximum" : "maximum"] = maximum
  if (items !== undefined) out.items = specJsonSchema(items)
  if (type === "object" || properties !== undefined) {
    // A member of a patch may be null: it removes the member.
    const member = (s: SpecSchema) => (patch ? { anyOf: [specJsonSchema(s, true), { type: "null" }] } : specJsonSchema(s))
    if (preserve) out.additionalProperties = true
    else {
      out.properties = Object.fromEntries(Object.entries(properties ?? {}).map(([name, s]) => [name, member(s)]))
      out.additionalProperties = typeof additionalProperties === "object" ? member(additionalProperties) : additionalProperties === true
      if (!patch && required !== undefined && required.length > 0) out.required = required
    }
  }
  return out
}
