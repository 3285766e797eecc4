// `fabric debug export`: the Mermaid diagram names every state and every transition with its
// event, and the Stately JSON is a config xstate accepts again with the same behaviour.
import { test } from "uvu"
import * as assert from "uvu/assert"
import { createMachine, type AnyStateNode } from "xstate"
import { accountMachine } from "./account.ts"
import { toMermaid, toStatelyJson } from "./export.ts"
import { projectMachine } from "./project.ts"
import { statechartOf, type ChartNode } from "./statechart.ts"

const projectStates = ["creating", "live", "provisioning", "ready", "degraded", "deleting", "requesting", "waiting", "finalizing", "deleted", "rejected"]

/** The Mermaid id a diagram line declares for a state key: `key`, `state "key" as id` or `state key {`. */
const declaredId = (lines: ReadonlyArray<string>, key: string): string | undefined => {
  for (const line of lines.map((l) => l.trim())) {
    if (line === key || line === `state ${key} {`) return key
    const aliased = new RegExp(`^state "${key}" as (\\w+)$`).exec(line)
    if (aliased) return aliased[1]
  }
  return undefined
}

test("the project diagram starts with stateDiagram-v2 and declares every state", () => {
  const mermaid = toMermaid(projectMachine)
  assert.ok(mermaid.startsWith("stateDiagram-v2\n"))
  const lines = mermaid.split("\n")
  for (const key of projectStates) assert.ok(declaredId(lines, key), `state ${key} is not in the diagram`)
  assert.ok(lines.includes("  [*] --> creating"), "no initial state")
  assert.ok(lines.includes("    [*] --> live_provisioning"), "no initial state inside live")
  assert.ok(lines.includes("  deleted --> [*]") && lines.includes("  rejected --> [*]"), "final states do not end")
})

test("every transition of the project machine is an edge labelled with its event, guard and actions", () => {
  const lines = toMermaid(projectMachine).split("\n").map((l) => l.trim())
  for (const edge of [
    "creating --> live : onDone recordProject",
    "creating --> rejected : onError recordProject / recordFailure",
    "live --> deleting : project.delete / beginDeletion",
    "live --> live : project.observed / recordObservation",
    "live --> live : cluster.joined / addPendingCluster",
    "live --> live : cluster.removed / dropCluster",
    "live --> live : cluster.reachability / recordReachability",
    "live_provisioning --> live_ready : always [everyClusterReady]",
    "live_provisioning --> live_degraded : always [someClusterFailed]",
    "live_ready --> live_degraded : always [someClusterFailed]",
    "live_ready --> live_provisioning : always [notEveryClusterReady]",
    "live_degraded --> live_ready : always [everyClusterReady]",
    "live_degraded --> live_provisioning : always [noClusterFailed]",
    "deleting_requesting --> deleting_waiting : onDone requestDeletion",
    "deleting --> deleting : cluster.released / letClusterGo",
    "deleting --> deleting : cluster.joined / addDeletingCluster",
    "deleting_waiting --> finalizing : always [everyClusterDeleted]",
    "finalizing --> deleted : onDone finalizeDeletion",
  ]) assert.ok(lines.includes(edge), `missing edge: ${edge}`)

  // And nothing the machine has is left out: one edge per (state, event, target) read from xstate.
  const expected: string[] = []
  const walk = (node: AnyStateNode) => {
    for (const [eventType, transitions] of node.transitions) for (const t of transitions) for (const _ of t.target ?? [node]) expected.push(eventType)
    for (const t of node.always ?? []) for (const _ of t.target ?? [node]) expected.push("always")
    Object.values(node.states as Record<string, AnyStateNode>).forEach(walk)
  }
  walk(projectMachine.root)
  assert.is(lines.filter((l) => / --> /.test(l) && !l.includes("[*]")).length, expected.length)
})

test("an edge from a nested state to an outer one is written outside the nested block", () => {
  // Mermaid puts a state where it is first named: inside `deleting { }` it would pull finalizing in.
  const lines = toMermaid(projectMachine).split("\n")
  const edge = lines.indexOf("  deleting_waiting --> finalizing : always [everyClusterDeleted]")
  const open = lines.indexOf("  state deleting {")
  const close = lines.findIndex((l, i) => i > open && l === "  }")
  assert.ok(edge > close && open >= 0, "the edge to finalizing is inside the deleting block")
})

test("a state whose key is a Mermaid keyword gets an id of its own (account: creating.state)", () => {
  const lines = toMermaid(accountMachine).split("\n")
  assert.is(declaredId(lines, "state"), "creating_state")
  assert.ok(lines.map((l) => l.trim()).includes("creating_state --> active : onDone writeAccountState"))
})

const stateIds = (node: ChartNode): string[] => [node.id, ...node.states.flatMap(stateIds)]

test("the Stately JSON parses, has the machine id, and keeps the eventless transitions", () => {
  const json = JSON.parse(toStatelyJson(projectMachine))
  assert.is(json.id, "project")
  assert.is(json.initial, "creating")
  assert.equal(json.states.live.states.provisioning.always, [
    { guard: "everyClusterReady", target: "ready" },
    { guard: "someClusterFailed", target: "degraded" },
  ])
})

test("the Stately JSON is a machine config xstate accepts again, with the same states and transitions", () => {
  for (const machine of [projectMachine, accountMachine]) {
    const again = createMachine(JSON.parse(toStatelyJson(machine)))
    assert.equal(stateIds(statechartOf(again)), stateIds(statechartOf(machine)))
    assert.is(toMermaid(again), toMermaid(machine))
  }
})

test.run()
