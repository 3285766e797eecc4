// The embedded default's operator token: generated once, kept beside the data (mode 0600) so a
// restart and the CLI on the same machine keep working; printed at start.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs"
import { join } from "node:path"

export const operatorTokenFile = (dataDir: string) => join(dataDir, "operator-token")

export const loadOrCreateOperatorToken = (dataDir: string): string => {
  const file = operatorTokenFile(dataDir)
  if (existsSync(file)) return readFileSync(file, "utf8").trim()
  mkdirSync(dataDir, { recursive: true })
  const bytes = crypto.getRandomValues(new Uint8Array(24))
  const token = `fop_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`
  writeFileSync(file, token + "\n", { mode: 0o600 })
  return token
}
