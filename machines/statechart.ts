// A machine's shape as plain JSON (states, nesting, transitions with their event, guard and
// target), read from xstate's own state nodes so the debug UI draws exactly what runs.
import type { AnyStateMachine, AnyStateNode } from "xstate"

export interface ChartTransition {
  /** "event": a named event; "always": eventless; "done" / "error": an invoked step settled; "after": a delay. */
  readonly kind: "event" | "always" | "done" | "error" | "after"
  /** The event name (for done/error the step's id, for after the delay). */
  readonly event: string
  readonly guard?: string
  readonly actions: ReadonlyArray<string>
  /** State node ids; empty when the transition only runs actions (the state stays). */
  readonly targets: ReadonlyArray<string>
}

export interface ChartNode {
  readonly id: string
  readonly key: string
  readonly type: "atomic" | "compound" | "parallel" | "final" | "history"
  /** The id of the initial child of a compound state. */
  readonly initial?: string
  /** Invoked steps running while the state is active. */
  readonly invokes: ReadonlyArray<string>
  readonly transitions: ReadonlyArray<ChartTransition>
  /** Children in document order. */
  readonly states: ReadonlyArray<ChartNode>
}

// xstate names the events it raises itself; the UI shows what they mean instead.
const builtIn: ReadonlyArray<[RegExp, ChartTransition["kind"]]> = [
  [/^xstate\.done\.actor\.(.+)$/, "done"],
  [/^xstate\.error\.actor\.(.+)$/, "error"],
  [/^xstate\.after\.([^.]+)\./, "after"],
]

const nameOf = (value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined
  if (typeof value === "string") return value
  if (typeof value === "function") return value.name || "inline"
  const type = (value as { type?: unknown }).type
  return typeof type === "string" ? type : "inline"
}

const transitionOf = (
  eventType: string,
  t: { guard?: unknown; actions: ReadonlyArray<unknown>; target?: ReadonlyArray<AnyStateNode> | undefined },
): ChartTransition => {
  let kind: ChartTransition["kind"] = eventType === "" ? "always" : "event"
  let event = eventType
  for (const [pattern, k] of builtIn) {
    const m = pattern.exec(eventType)
    if (m) { kind = k; event = m[1]!; break }
  }
  const guard = nameOf(t.guard)
  return {
    kind, event,
    ...(guard === undefined ? {} : { guard }),
    actions: t.actions.map((a) => nameOf(a) ?? "inline"),
    targets: (t.target ?? []).map((n) => n.id),
  }
}

const nodeOf = (node: AnyStateNode): ChartNode => {
  const transitions = [
    ...[...node.transitions.entries()].flatMap(([eventType, ts]) => ts.map((t) => transitionOf(eventType, t))),
    ...(node.always ?? []).map((t) => transitionOf("", t)),
  ]
  const initial = node.type === "compound" ? node.initial.target[0]?.id : undefined
  return {
    id: node.id,
    key: node.key,
    type: node.type,
    ...(initial === undefined ? {} : { initial }),
    invokes: node.invoke.map((i) => nameOf(i.src) ?? i.id),
    transitions,
    states: Object.values(node.states as Record<string, AnyStateNode>).map(nodeOf),
  }
}

/** The whole machine, its root first. */
export const statechartOf = (machine: AnyStateMachine): ChartNode => nodeOf(machine.root)
