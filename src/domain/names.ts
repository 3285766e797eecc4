import { Schema } from "effect"
import { randomChars } from "./ids.ts"

// The one definition of a DNS-1123 label: what Kubernetes accepts as a namespace name, and what
// Fabric asks of a cluster id (config, CLI flags and the API all check it here).
const maxLabelLength = 63
// The length bound is in the pattern (at most 61 between the two ends), so the OpenAPI document
// carries all of the rule; `u` flag: Effect emits only `u` patterns into it.
const dns1123Label = new RegExp(`^[a-z0-9]([-a-z0-9]{0,${maxLabelLength - 2}}[a-z0-9])?$`, "u")

/** The rule in words, for messages that reject a name. */
export const dns1123Rule = `a DNS-1123 label: lowercase letters, digits and '-', at most ${maxLabelLength} characters, a letter or digit at both ends`

export const isDns1123Label = (name: string): boolean => dns1123Label.test(name)

/** The check that a string (a branded id's, say) is a DNS-1123 label; `what` names it in the message (`clusterId must be ...`). */
export const isDns1123LabelCheck = (what: string) => Schema.isPattern(dns1123Label, { message: `${what} must be ${dns1123Rule}` })

const suffixChars = "abcdefghijklmnopqrstuvwxyz0123456789"
const prefix = "prj-"
const suffixLength = 6
// prj- + slug + - + 6 chars must fit in 63
const maxSlugLength = maxLabelLength - prefix.length - 1 - suffixLength

/** A project name as a DNS-safe slug: lowercase ASCII, dashes between words, never empty. */
const slugify = (name: string): string => {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, maxSlugLength)
    .replace(/^-+|-+$/g, "")
  return slug === "" ? "project" : slug
}

/** `prj-<slug>-<6 random [a-z0-9]>`, always a valid DNS-1123 label. */
export const namespaceFor = (projectName: string, random: (n: number) => Uint8Array): string =>
  `${prefix}${slugify(projectName)}-${randomChars(suffixLength, suffixChars, random)}`

/** A resource's name when the client gives none: `<kind in lowercase>-<6 random [a-z0-9]>` (`kupoport-x7k2qa`). */
export const resourceNameFor = (kind: string, random: (n: number) => Uint8Array): string =>
  `${kind.toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, maxLabelLength - 1 - suffixLength).replace(/^-+|-+$/g, "") || "resource"}-${randomChars(suffixLength, suffixChars, random)}`
