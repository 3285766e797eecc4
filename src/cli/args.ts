/** `--name value`, `--name=value` and `--flag` into a map; the rest are positionals. */
export const parseArgs = (argv: ReadonlyArray<string>) => {
  const flags = new Map<string, string | true>()
  const positionals: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith("--")) { positionals.push(arg); continue }
    const eq = arg.indexOf("=")
    if (eq > 0) { flags.set(arg.slice(2, eq), arg.slice(eq + 1)); continue }
    const next = argv[i + 1]
    if (next !== undefined && !next.startsWith("--")) { flags.set(arg.slice(2), next); i++ } else flags.set(arg.slice(2), true)
  }
  return { flags, positionals }
}
