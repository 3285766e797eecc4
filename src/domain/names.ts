import { randomChars } from "./ids.ts"

/** DNS-1123 label: what Kubernetes accepts as a namespace name. */
export const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
export const maxLabelLength = 63

export const isDns1123Label = (name: string): boolean => name.length <= maxLabelLength && dns1123Label.test(name)

const suffixChars = "abcdefghijklmnopqrstuvwxyz0123456789"
const prefix = "prj-"
const suffixLength = 6
// prj- + slug + - + 6 chars must fit in 63
const maxSlugLength = maxLabelLength - prefix.length - 1 - suffixLength

/** A project name as a DNS-safe slug: lowercase ASCII, dashes between words, never empty. */
export const slugify = (name: string): string => {
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
