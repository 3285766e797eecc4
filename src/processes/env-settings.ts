// Reading one setting from the environment, shared by the configuration's parsers.
import { ConfigError } from "./config-error.ts"

export type Env = Readonly<Record<string, string | undefined>>

/** Off unless set to 1; anything but 0 or 1 is a mistake worth stopping for. */
export const flag = (env: Env, name: string): boolean => {
  const raw = env[name]
  if (raw === undefined || raw === "" || raw === "0") return false
  if (raw === "1") return true
  throw new ConfigError(`${name}=${raw} must be 1 (on) or 0 (off)`)
}
