// A machine as text for people and tools outside Fabric (`fabric debug export`): a Mermaid
// `stateDiagram-v2` for docs and reviews, or Stately's JSON for stately.ai. Pure and
// web-standard: no Node API, so it can run anywhere the machines run.
import type { AnyStateMachine } from "xstate"
import { statechartOf, type ChartNode, type ChartTransition } from "./statechart.ts"

export const exportFormats = ["mermaid", "stately"] as const
export type ExportFormat = (typeof exportFormats)[number]

// Words Mermaid's state-diagram grammar reserves; a state with such a key gets another id.
const mermaidKeywords = new Set(["state", "note", "direction", "class", "classDef", "style", "click", "end", "as"])

/** Mermaid ids are global to the diagram, so nested states take their path (`live_ready`). */
const mermaidIdsOf = (root: ChartNode) => (nodeId: string): string => {
  const path = nodeId.startsWith(`${root.id}.`) ? nodeId.slice(root.id.length + 1) : nodeId
  const id = path.replace(/[^A-Za-z0-9_]/g, "_")
  return /^[A-Za-z]/.test(id) && !mermaidKeywords.has(id) ? id : `s_${id}`
}

// UML-style labels: `event [guard] / actions`; `;`, `:` and `#` mean something to Mermaid.
const labelOf = (t: ChartTransition): string => {
  const trigger = t.kind === "event" ? (t.event.startsWith("xstate.done.state.") ? "onDone" : t.event)
    : t.kind === "always" ? "always"
    : t.kind === "after" ? `after ${t.event}`
    : t.kind === "done" ? `onDone ${t.event}` : `onError ${t.event}`
  const guard = t.guard === undefined ? "" : ` [${t.guard}]`
  const actions = t.actions.length === 0 ? "" : ` / ${t.actions.join(", ")}`
  return `${trigger}${guard}${actions}`.replace(/[;:#\n]/g, " ")
}

/** The machine as a Mermaid state diagram: every state, and every transition with its event. */
export const toMermaid = (machine: AnyStateMachine): string => {
  const root = statechartOf(machine)
  const idOf = mermaidIdsOf(root)
  const parentOf = new Map<string, string>()
  const index = (node: ChartNode) => node.states.forEach((child) => { parentOf.set(child.id, node.id); index(child) })
  index(root)
  const ancestorsOf = (id: string): string[] => {
    const parent = parentOf.get(id)
    return parent === undefined ? [id] : [id, ...ancestorsOf(parent)]
  }

  // Mermaid puts a state in the block where it is first named, so each edge goes into the
  // innermost block that holds both of its ends, after that block's states are declared.
  const edgesByBlock = new Map<string, string[]>()
  const comments: string[] = []
  const collect = (node: ChartNode) => {
    for (const t of node.transitions) {
      if (node.id === root.id) { comments.push(`%% in every state: ${labelOf(t)} -> ${t.targets.map(idOf).join(", ") || "stays"}`); continue }
      for (const target of t.targets.length === 0 ? [node.id] : t.targets) {
        const targetBlocks = new Set(ancestorsOf(parentOf.get(target) ?? root.id))
        const block = ancestorsOf(parentOf.get(node.id)!).find((b) => targetBlocks.has(b)) ?? root.id
        edgesByBlock.set(block, [...(edgesByBlock.get(block) ?? []), `${idOf(node.id)} --> ${idOf(target)} : ${labelOf(t)}`])
      }
    }
    node.states.forEach(collect)
  }
  collect(root)

  const block = (node: ChartNode, depth: number): string[] => {
    const pad = "  ".repeat(depth)
    const lines: string[] = node.initial === undefined ? [] : [`${pad}[*] --> ${idOf(node.initial)}`]
    node.states.forEach((child, i) => {
      const id = idOf(child.id)
      if (node.type === "parallel" && i > 0) lines.push(`${pad}--`)
      if (child.states.length > 0) lines.push(`${pad}state ${id} {`, ...block(child, depth + 1), `${pad}}`)
      else lines.push(id === child.key ? `${pad}${id}` : `${pad}state "${child.key}" as ${id}`)
      for (const step of child.invokes) lines.push(child.states.length > 0 ? `${pad}%% ${id} invokes ${step}` : `${pad}${id} : invokes ${step}`)
      if (child.type === "final") lines.push(`${pad}${id} --> [*]`)
    })
    return [...lines, ...(edgesByBlock.get(node.id) ?? []).map((edge) => `${pad}${edge}`)]
  }

  return ["stateDiagram-v2", ...comments.map((c) => `  ${c}`), ...block(root, 1)].join("\n") + "\n"
}

/**
 * Stately's JSON of a machine: its config, the form stately.ai imports and @statelyai/inspect
 * sends. The config, not `machine.toJSON()`: xstate's definition JSON leaves out eventless
 * (`always`) transitions, which carry most of the project machine's behaviour. Functions (context
 * factories, input mappers, inline actions) have no JSON form: dropped, or named in arrays.
 */
export const toStatelyJson = (machine: AnyStateMachine): string =>
  JSON.stringify(machine.config, function (this: unknown, _key: string, value: unknown) {
    if (typeof value !== "function") return value
    return Array.isArray(this) ? { type: value.name || "inline" } : undefined
  }, 2) + "\n"

export const exportMachine = (machine: AnyStateMachine, format: ExportFormat): string =>
  format === "mermaid" ? toMermaid(machine) : toStatelyJson(machine)
