// JSON merge patch, RFC 7386 section 2: a patch that is an object merges into the target
// member by member (null removes a member); anything else (an array, a scalar, null) replaces
// the target whole. Pure: the target is not modified.
import { isJsonObject as isObject } from "./json.ts"

export const applyMergePatch = (target: unknown, patch: unknown): unknown => {
  if (!isObject(patch)) return patch
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {}
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name]
    else result[name] = applyMergePatch(result[name], value)
  }
  return result
}
