// The statechart the debug UI draws is read from the machines themselves: a state or transition
// added to a machine shows up without touching the UI.
import { test } from "uvu"
import * as assert from "uvu/assert"
import { accountMachine } from "./account.ts"
import { projectMachine } from "./project.ts"
import { statechartOf, type ChartNode } from "./statechart.ts"

const find = (node: ChartNode, id: string): ChartNode | undefined =>
  node.id === id ? node : node.states.map((c) => find(c, id)).find((n) => n !== undefined)

test("the project chart nests live and deleting with their initial states", () => {
  const chart = statechartOf(projectMachine)
  assert.equal(chart.states.map((s) => s.key), ["creating", "rejected", "live", "deleting", "finalizing", "deleted"])
  assert.is(find(chart, "project.live")?.initial, "project.live.provisioning")
  assert.equal(find(chart, "project.live")?.states.map((s) => s.key), ["provisioning", "ready", "degraded"])
  assert.is(find(chart, "project.deleted")?.type, "final")
})

test("eventless transitions keep their guard and target; event transitions their name and actions", () => {
  const chart = statechartOf(projectMachine)
  assert.equal(find(chart, "project.live.provisioning")?.transitions, [
    { kind: "always", event: "", guard: "everyClusterReady", actions: [], targets: ["project.live.ready"] },
    { kind: "always", event: "", guard: "someClusterFailed", actions: [], targets: ["project.live.degraded"] },
  ])
  const live = find(chart, "project.live")!
  assert.equal(live.transitions.find((t) => t.event === "project.delete"), { kind: "event", event: "project.delete", actions: ["beginDeletion"], targets: ["project.deleting"] })
  // An event that only updates the context stays in the state: no target.
  assert.equal(live.transitions.find((t) => t.event === "project.observed")?.targets, [])
})

test("an invoked step's outcomes read as done and error of that step", () => {
  const legacy = find(statechartOf(accountMachine), "account.creating.legacy")!
  assert.equal(legacy.invokes, ["writeLegacyAccount"])
  assert.equal(legacy.transitions.map((t) => [t.kind, t.event, t.targets]), [
    ["done", "writeLegacyAccount", ["account.creating.state"]],
    ["error", "writeLegacyAccount", ["account.rejected"]],
  ])
})

test.run()
