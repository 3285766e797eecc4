// What every section module receives and returns.
import type { RealEngines } from "./installation.ts"
import type { WriteMix } from "./postgres-baseline.ts"
import type { SectionResult } from "./report.ts"
import type { BenchSettings, SectionName } from "./settings.ts"

export interface SectionContext {
  readonly settings: BenchSettings
  /** Undefined with --embedded. */
  readonly engines: RealEngines | undefined
  /** Figures one section measures and a later one needs (the write mix of a create). */
  readonly shared: { writeMix?: WriteMix }
  /** A progress line on stderr. */
  readonly log: (line: string) => void
}

export interface Section {
  readonly name: SectionName
  readonly run: (ctx: SectionContext) => Promise<SectionResult>
}
