// `fabric debug export <machine> [--format mermaid|stately]`: a machine's definition as text. It
// reads the code, not a server, so it needs no URL and no token.
import { accountMachine } from "../../machines/account.ts"
import { exportFormats, exportMachine, type ExportFormat } from "../../machines/export.ts"
import { projectMachine } from "../../machines/project.ts"

const machines = { account: accountMachine, project: projectMachine } as const

const isMachineName = (name: string): name is keyof typeof machines => Object.hasOwn(machines, name)
const isFormat = (format: string): format is ExportFormat => (exportFormats as ReadonlyArray<string>).includes(format)

/** The text to print, or what was wrong with the arguments. */
export const exportMachineCommand = (machine: string | undefined, format: string | true | undefined = "mermaid"): { text: string } | { error: string } => {
  if (machine === undefined || !isMachineName(machine)) {
    return { error: `debug export needs a machine: ${Object.keys(machines).join(" or ")}${machine === undefined ? "" : ` (not "${machine}")`}` }
  }
  if (typeof format !== "string" || !isFormat(format)) return { error: `--format must be ${exportFormats.join(" or ")}` }
  return { text: exportMachine(machines[machine], format) }
}
