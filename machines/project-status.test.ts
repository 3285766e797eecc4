// The pure per-cluster status rules behind the project machine's guards and actions.
import { test } from "uvu"
import * as assert from "uvu/assert"
import { ClusterId } from "../src/domain/cluster.ts"
import {
  applyObservation, everyClusterDeleted, everyClusterReady, livePhase, markAll, pendingClusters, someClusterFailed,
  type ClusterState, type Clusters, type Observation,
} from "./project-status.ts"

const t0 = "2025-01-01T00:00:00.000Z"
const t1 = "2025-01-01T00:01:00.000Z"
const t2 = "2025-01-01T00:02:00.000Z"
const t3 = "2025-01-01T00:03:00.000Z"

const cluster = (phase: ClusterState["phase"], observedGeneration: number, extra: Partial<ClusterState> = {}): ClusterState =>
  ({ phase, observedGeneration, attempts: 0, updatedAt: t0, ...extra })

const observed = (clusterId: string, generation: number, phase: Observation["phase"], at = t1, reason?: string): Observation =>
  ({ clusterId: ClusterId.make(clusterId), generation, phase, at, ...(reason === undefined ? {} : { reason }) })

test("pendingClusters: every member starts Pending at generation 0 with no attempts", () => {
  assert.equal(pendingClusters(["a", "b"], t0), {
    a: { phase: "Pending", observedGeneration: 0, attempts: 0, updatedAt: t0 },
    b: { phase: "Pending", observedGeneration: 0, attempts: 0, updatedAt: t0 },
  })
  assert.equal(pendingClusters([], t0), {})
})

test("applyObservation: an observation for the current generation is recorded (new object, input untouched)", () => {
  const before = pendingClusters(["a", "b"], t0)
  const after = applyObservation(before, 1, observed("a", 1, "Ready", t1))
  assert.is.not(after, before)
  assert.equal(after, {
    a: { phase: "Ready", observedGeneration: 1, attempts: 0, updatedAt: t1 },
    b: { phase: "Pending", observedGeneration: 0, attempts: 0, updatedAt: t0 },
  })
  // the other cluster's state object is shared, and the input was not mutated
  assert.is(after["b"], before["b"])
  assert.equal(before["a"], { phase: "Pending", observedGeneration: 0, attempts: 0, updatedAt: t0 })
})

test("applyObservation: the reason is kept when given and dropped when absent", () => {
  const failed = applyObservation(pendingClusters(["a"], t0), 1, observed("a", 1, "Failed", t1, "Forbidden"))
  assert.equal(failed["a"], { phase: "Failed", observedGeneration: 1, attempts: 1, updatedAt: t1, reason: "Forbidden" })
  const ready = applyObservation(failed, 1, observed("a", 1, "Ready", t2))
  assert.equal(ready["a"], { phase: "Ready", observedGeneration: 1, attempts: 0, updatedAt: t2 })
  assert.not.ok("reason" in ready["a"]!)
})

test("applyObservation: older and newer generations are ignored and the SAME object is returned", () => {
  const clusters = pendingClusters(["a"], t0)
  assert.is(applyObservation(clusters, 2, observed("a", 1, "Ready")), clusters)
  assert.is(applyObservation(clusters, 2, observed("a", 0, "Failed")), clusters)
  assert.is(applyObservation(clusters, 2, observed("a", 3, "Ready")), clusters)
  assert.is(applyObservation(clusters, 2, observed("a", 3, "Deleted")), clusters)
  // and it still accepts the current one
  assert.is.not(applyObservation(clusters, 2, observed("a", 2, "Ready")), clusters)
})

test("applyObservation: an observation from a cluster that is not a member is ignored", () => {
  const clusters = pendingClusters(["a"], t0)
  assert.is(applyObservation(clusters, 1, observed("z", 1, "Ready")), clusters)
  assert.is(applyObservation(clusters, 1, observed("z", 1, "Failed", t1, "x")), clusters)
  const empty: Clusters = {}
  assert.is(applyObservation(empty, 1, observed("z", 1, "Deleted")), empty)
})

test("applyObservation: Deleted stays Deleted for the generation (late Ready or Failed ignored)", () => {
  const clusters: Clusters = { a: cluster("Deleted", 2, { updatedAt: t1 }) }
  assert.is(applyObservation(clusters, 2, observed("a", 2, "Ready", t2)), clusters)
  assert.is(applyObservation(clusters, 2, observed("a", 2, "Failed", t2, "Timeout")), clusters)
  assert.is(applyObservation(clusters, 2, observed("a", 2, "Deleted", t3)), clusters)
})

test("applyObservation: Deleting, Pending and Failed clusters do take a Deleted observation", () => {
  const clusters: Clusters = { a: cluster("Deleting", 1), b: cluster("Pending", 0), c: cluster("Failed", 2, { attempts: 3, reason: "x" }) }
  let next = clusters
  for (const id of ["a", "b", "c"]) next = applyObservation(next, 2, observed(id, 2, "Deleted", t2))
  assert.equal(next, {
    a: { phase: "Deleted", observedGeneration: 2, attempts: 0, updatedAt: t2 },
    b: { phase: "Deleted", observedGeneration: 2, attempts: 0, updatedAt: t2 },
    c: { phase: "Deleted", observedGeneration: 2, attempts: 0, updatedAt: t2 },
  })
})

test("applyObservation: attempts increment on each distinct Failed and reset on Ready", () => {
  let clusters = pendingClusters(["a"], t0)
  clusters = applyObservation(clusters, 1, observed("a", 1, "Failed", t1, "Timeout"))
  assert.is(clusters["a"]!.attempts, 1)
  clusters = applyObservation(clusters, 1, observed("a", 1, "Failed", t2, "Forbidden"))
  assert.is(clusters["a"]!.attempts, 2)
  assert.is(clusters["a"]!.reason, "Forbidden")
  clusters = applyObservation(clusters, 1, observed("a", 1, "Ready", t3))
  assert.equal(clusters["a"], { phase: "Ready", observedGeneration: 1, attempts: 0, updatedAt: t3 })
  // failing again after a success counts from one
  clusters = applyObservation(clusters, 1, observed("a", 1, "Failed", t3, "Timeout"))
  assert.is(clusters["a"]!.attempts, 1)
})

test("applyObservation: Failed without a reason after Failed with one is a change (attempts count it)", () => {
  const first = applyObservation(pendingClusters(["a"], t0), 1, observed("a", 1, "Failed", t1, "Timeout"))
  const second = applyObservation(first, 1, observed("a", 1, "Failed", t2))
  assert.is.not(second, first)
  assert.equal(second["a"], { phase: "Failed", observedGeneration: 1, attempts: 2, updatedAt: t2 })
})

test("applyObservation: an identical observation (a redelivery) returns the same object, even with a later `at`", () => {
  const ready = applyObservation(pendingClusters(["a"], t0), 1, observed("a", 1, "Ready", t1))
  assert.is(applyObservation(ready, 1, observed("a", 1, "Ready", t1)), ready)
  assert.is(applyObservation(ready, 1, observed("a", 1, "Ready", t3)), ready)
  // a redelivered failure does not count as another attempt
  const failed = applyObservation(ready, 1, observed("a", 1, "Failed", t2, "Timeout"))
  assert.is(applyObservation(failed, 1, observed("a", 1, "Failed", t3, "Timeout")), failed)
  assert.is(failed["a"]!.attempts, 1)
})

test("applyObservation: the same phase for a new generation is a change", () => {
  const clusters: Clusters = { a: cluster("Ready", 1) }
  const next = applyObservation(clusters, 2, observed("a", 2, "Ready", t2))
  assert.is.not(next, clusters)
  assert.equal(next["a"], { phase: "Ready", observedGeneration: 2, attempts: 0, updatedAt: t2 })
})

test("markAll: sets every cluster's phase and time, resets attempts, keeps generation and reason", () => {
  const clusters: Clusters = {
    a: cluster("Ready", 1, { updatedAt: t1 }),
    b: cluster("Failed", 1, { attempts: 4, reason: "Timeout", updatedAt: t1 }),
    c: cluster("Pending", 0),
  }
  const marked = markAll(clusters, "Deleting", t2)
  assert.equal(marked, {
    a: { phase: "Deleting", observedGeneration: 1, attempts: 0, updatedAt: t2 },
    b: { phase: "Deleting", observedGeneration: 1, attempts: 0, updatedAt: t2, reason: "Timeout" },
    c: { phase: "Deleting", observedGeneration: 0, attempts: 0, updatedAt: t2 },
  })
  assert.is(clusters["a"]!.phase, "Ready") // input untouched
  assert.equal(markAll({}, "Deleting", t2), {})
})

test("everyClusterReady: every cluster Ready for the current generation", () => {
  assert.ok(everyClusterReady({ a: cluster("Ready", 1), b: cluster("Ready", 1) }, 1))
  assert.not.ok(everyClusterReady({ a: cluster("Ready", 1), b: cluster("Pending", 0) }, 1))
  assert.not.ok(everyClusterReady({ a: cluster("Ready", 1), b: cluster("Failed", 1) }, 1))
  assert.not.ok(everyClusterReady({ a: cluster("Deleted", 1) }, 1))
  assert.not.ok(everyClusterReady({ a: cluster("Deleting", 1) }, 1))
})

test("everyClusterReady: the observed generation must match (older or newer is not Ready)", () => {
  assert.not.ok(everyClusterReady({ a: cluster("Ready", 1), b: cluster("Ready", 2) }, 2))
  assert.not.ok(everyClusterReady({ a: cluster("Ready", 3) }, 2))
  assert.ok(everyClusterReady({ a: cluster("Ready", 2), b: cluster("Ready", 2) }, 2))
})

test("everyClusterReady: never with no Active member (none at all, or only Unreachable ones)", () => {
  assert.not.ok(everyClusterReady({}, 1))
  assert.not.ok(everyClusterReady({}, 7))
  assert.not.ok(everyClusterReady({ a: cluster("Ready", 1, { unreachable: true }) }, 1))
  assert.ok(everyClusterReady({ a: cluster("Ready", 1), b: cluster("Pending", 0, { unreachable: true }) }, 1))
})

test("someClusterFailed", () => {
  assert.not.ok(someClusterFailed({}))
  assert.not.ok(someClusterFailed({ a: cluster("Ready", 1), b: cluster("Pending", 0), c: cluster("Deleting", 1), d: cluster("Deleted", 2) }))
  assert.ok(someClusterFailed({ a: cluster("Ready", 1), b: cluster("Failed", 1) }))
  // any generation's failure counts (the guard does not look at generations)
  assert.ok(someClusterFailed({ a: cluster("Failed", 0) }))
})

test("everyClusterDeleted (vacuously true with no clusters)", () => {
  assert.ok(everyClusterDeleted({}))
  assert.ok(everyClusterDeleted({ a: cluster("Deleted", 2), b: cluster("Deleted", 2) }))
  assert.not.ok(everyClusterDeleted({ a: cluster("Deleted", 2), b: cluster("Deleting", 1) }))
  assert.not.ok(everyClusterDeleted({ a: cluster("Deleted", 2), b: cluster("Failed", 2) }))
  assert.not.ok(everyClusterDeleted({ a: cluster("Ready", 1) }))
})

test("livePhase: Ready over Degraded over Provisioning", () => {
  // no member cluster: nothing exists anywhere, so not Ready
  assert.is(livePhase({}, 1), "Provisioning")
  assert.is(livePhase({ a: cluster("Ready", 1), b: cluster("Ready", 1) }, 1), "Ready")
  assert.is(livePhase({ a: cluster("Ready", 1), b: cluster("Pending", 0) }, 1), "Provisioning")
  assert.is(livePhase({ a: cluster("Ready", 1), b: cluster("Failed", 1) }, 1), "Degraded")
  assert.is(livePhase({ a: cluster("Pending", 0), b: cluster("Failed", 1) }, 1), "Degraded")
  // Ready for another generation is not Ready
  assert.is(livePhase({ a: cluster("Ready", 1) }, 2), "Provisioning")
})

test.run()
