import type { Project } from "../domain/project.ts"
import type { Resource } from "../domain/resource.ts"

const pad = (s: string, n: number) => s.padEnd(n)

/** A table with a header row; columns sized to their longest cell. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  return [header, ...rows].map((r) => r.map((cell, i) => pad(cell ?? "", widths[i]!)).join("  ").trimEnd()).join("\n")
}

export const projectDetails = (p: Project): string =>
  [
    `${p.id}  ${p.name}  namespace ${p.namespace}  ${p.phase}  generation ${p.generation}`,
    table(["CLUSTER", "PHASE", "GENERATION", "REASON"], Object.entries(p.clusters).map(([id, c]) =>
      [id, c.phase, String(c.observedGeneration), c.reason ?? ""])),
  ].join("\n")

export const clusterProgress = (p: Project | Resource): string =>
  `${p.phase.padEnd(12)} ` + Object.entries(p.clusters).map(([id, c]) => `${id}=${c.phase}`).join(" ")

/** A resource, its spec, and its object in each cluster (phase, generation, conditions, reason). */
export const resourceDetails = (r: Resource): string =>
  [
    `${r.id}  ${r.kind} ${r.name}  ${r.phase}  generation ${r.generation}`,
    `spec ${JSON.stringify(r.spec)}`,
    table(["CLUSTER", "PHASE", "GENERATION", "CONDITIONS", "REASON"], Object.entries(r.clusters).map(([id, c]) =>
      [id, c.phase, String(c.observedGeneration), (c.conditions ?? []).map((k) => `${k.type}=${k.status}`).join(",") || "-", c.reason ?? ""])),
  ].join("\n")
