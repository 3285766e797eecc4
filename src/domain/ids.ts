/** Entity ids: a type prefix and 20 lowercase base32 characters (100 bits of randomness). */
const alphabet = "abcdefghijklmnopqrstuvwxyz234567"

// `u` flag: so the OpenAPI document carries these patterns (Effect emits only `u` patterns).
export const idPatterns = {
  account: /^acc_[a-z2-7]{20}$/u,
  project: /^prj_[a-z2-7]{20}$/u,
  resource: /^res_[a-z2-7]{20}$/u,
} as const

export type IdKind = keyof typeof idPatterns
const prefixes: Record<IdKind, string> = { account: "acc_", project: "prj_", resource: "res_" }

/** Uniform characters from `chars`: bytes past the last whole multiple of its length are dropped (no modulo bias). */
export const randomChars = (count: number, chars: string, random: (n: number) => Uint8Array): string => {
  const limit = 256 - (256 % chars.length)
  let out = ""
  while (out.length < count) {
    for (const byte of random(count * 2)) {
      if (byte < limit && out.length < count) out += chars[byte % chars.length]
    }
  }
  return out
}

export const formatId = (kind: IdKind, random: (n: number) => Uint8Array): string =>
  prefixes[kind] + randomChars(20, alphabet, random)
