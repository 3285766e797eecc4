// The Cluster contract: the same cases against every layer (simulated and a real apiserver), so the
// simulated cluster cannot drift from what Kubernetes does. Each case uses fresh namespace names,
// so runs can share an apiserver; every outcome is read back, never assumed from "no error".
import { Cause, Effect, Exit, Layer, ManagedRuntime } from "effect"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import {
  accountAnnotation,
  Cluster,
  ClusterUnavailable,
  generationAnnotation,
  type ManagedNamespace,
  managedByLabel,
  managedByValue,
  NamespaceConflict,
  projectLabel,
} from "../../src/services/cluster.ts"

/** A namespace as stored in the cluster, seen with admin rights (not through the layer under test). */
export interface StoredNamespace {
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
  readonly terminating: boolean
}

/** What the suite does behind the layer's back, the way an operator with kubectl would. */
export interface ClusterContractHooks {
  createForeignNamespace(name: string, labels?: Record<string, string>): Promise<void>
  deleteNamespaceOutOfBand(name: string): Promise<void>
  inspectNamespace(name: string): Promise<StoredNamespace | undefined>
  /** Keeps the namespace Terminating after deletion until released (a finalizer on something inside). */
  holdDeletion(name: string): Promise<void>
  releaseDeletion(name: string): Promise<void>
  /** How long deleting an empty namespace may take on this layer before a case gives up. */
  readonly deletionDeadlineMs: number
}

/** Where a namespace stands, as the cases compare it: read out of band, since no layer reads one namespace. */
export type NamespaceState =
  | { readonly kind: "absent" }
  | { readonly kind: "active"; readonly managed: boolean; readonly projectId: string | undefined }
  | { readonly kind: "terminating"; readonly managed: boolean }

const stateOf = (stored: StoredNamespace | undefined): NamespaceState => {
  if (stored === undefined) return { kind: "absent" }
  const managed = stored.labels[managedByLabel] === managedByValue
  return stored.terminating ? { kind: "terminating", managed } : { kind: "active", managed, projectId: stored.labels[projectLabel] }
}

type MakeLayer = () => Layer.Layer<Cluster, unknown, never> | Promise<Layer.Layer<Cluster, unknown, never>>

const randomSuffix = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(6))
  return Array.from(bytes, (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("")
}

/** Tagged errors print only their tag through Cause.pretty; show their fields too. */
const describeCause = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.findErrorOption(cause)
  return error._tag === "Some" ? `${String((error.value as { _tag?: string })._tag)} ${JSON.stringify(error.value)}` : Cause.pretty(cause)
}

export const clusterContract = (name: string, makeLayer: MakeLayer, hooks: ClusterContractHooks): void => {
  const test = suite(`Cluster contract: ${name}`)
  const run = randomSuffix()
  let runtime: ManagedRuntime.ManagedRuntime<Cluster, never> | undefined
  let clusterId = ""
  const created: string[] = []
  let count = 0

  /** A fresh namespace (and project) per case, remembered for clean-up. */
  const fresh = (tag: string): ManagedNamespace => {
    const ns = {
      name: `prj-ct-${tag}-${run}-${++count}`,
      projectId: `prj_contract${run}${count}`,
      accountId: `acc_contract${run}`,
      generation: count,
    }
    created.push(ns.name)
    return ns
  }

  const fail = (message: string): never => {
    assert.unreachable(message)
    throw new Error(message)
  }

  const cluster = <A, E>(use: (c: Cluster["Service"]) => Effect.Effect<A, E>): Promise<Exit.Exit<A, E>> =>
    runtime!.runPromiseExit(Effect.gen(function* () {
      return yield* use(yield* Cluster)
    }))

  const succeed = async <A, E>(use: (c: Cluster["Service"]) => Effect.Effect<A, E>): Promise<A> => {
    const exit = await cluster(use)
    if (Exit.isSuccess(exit)) return exit.value
    return fail(`expected success, got ${describeCause(exit.cause)}`)
  }

  const failure = async <A, E>(use: (c: Cluster["Service"]) => Effect.Effect<A, E>): Promise<E> => {
    const exit = await cluster(use)
    if (Exit.isSuccess(exit)) return fail(`expected a failure, got success: ${JSON.stringify(exit.value)}`)
    const error = Cause.findErrorOption(exit.cause)
    if (error._tag === "None") return fail(`expected a typed failure, got ${describeCause(exit.cause)}`)
    return error.value
  }

  const read = async (ns: string) => stateOf(await hooks.inspectNamespace(ns))

  /** Calls `probe` until `done` holds, failing the case at the deadline with the last value seen. */
  const poll = async <A>(what: string, probe: () => Promise<A>, done: (a: A) => boolean, onEach?: (a: A) => void): Promise<A> => {
    const deadline = Date.now() + hooks.deletionDeadlineMs
    for (;;) {
      const value = await probe()
      if (done(value)) return value
      onEach?.(value)
      if (Date.now() > deadline) assert.unreachable(`${what}: still ${JSON.stringify(value)} after ${hooks.deletionDeadlineMs} ms`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  test.before(async () => {
    runtime = ManagedRuntime.make(Layer.orDie(await makeLayer()))
    clusterId = await runtime.runPromise(Effect.map(Cluster, (c) => c.id))
  })

  test.after(async () => {
    // Best effort: leave a shared apiserver as we found it.
    for (const ns of created) {
      await hooks.releaseDeletion(ns).catch(() => {})
      await hooks.deleteNamespaceOutOfBand(ns).catch(() => {})
    }
    await runtime?.dispose()
  })

  test("ensureNamespace creates the namespace, then reports it unchanged", async () => {
    const ns = fresh("ensure")
    assert.is(await succeed((c) => c.ensureNamespace(ns)), "created")
    assert.equal(await read(ns.name), { kind: "active", managed: true, projectId: ns.projectId } satisfies NamespaceState)
    assert.is(await succeed((c) => c.ensureNamespace(ns)), "unchanged")
    assert.is(await succeed((c) => c.ensureNamespace(ns)), "unchanged")
    const stored = await hooks.inspectNamespace(ns.name)
    assert.ok(stored && !stored.terminating, "the namespace exists and is active")
  })

  test("a created namespace carries Fabric's labels and the account and generation annotations", async () => {
    const ns = fresh("labels")
    await succeed((c) => c.ensureNamespace(ns))
    const stored = await hooks.inspectNamespace(ns.name)
    assert.ok(stored, "the namespace exists")
    assert.is(stored.labels[managedByLabel], "fabric")
    assert.is(stored.labels[projectLabel], ns.projectId)
    assert.is(stored.annotations[accountAnnotation], ns.accountId)
    assert.is(stored.annotations[generationAnnotation], String(ns.generation))
    const listed = (await succeed((c) => c.listManaged())).find((m) => m.name === ns.name)
    assert.equal(listed, ns, "listManaged reads back the same ManagedNamespace")
  })

  test("a foreign namespace with the same name is a conflict and stays untouched", async () => {
    const ns = fresh("foreign")
    await hooks.createForeignNamespace(ns.name, { team: "payments" })
    const before = await hooks.inspectNamespace(ns.name)
    const error = await failure((c) => c.ensureNamespace(ns))
    assert.instance(error, NamespaceConflict)
    assert.is((error as NamespaceConflict).cluster, clusterId)
    assert.is((error as NamespaceConflict).namespace, ns.name)
    assert.equal(await hooks.inspectNamespace(ns.name), before, "labels and annotations unchanged")
    assert.equal(await read(ns.name), { kind: "active", managed: false, projectId: undefined } satisfies NamespaceState)
  })

  test("a namespace Fabric made for another project is a conflict too", async () => {
    const ns = fresh("other")
    const other = { ...ns, projectId: `${ns.projectId}x` }
    assert.is(await succeed((c) => c.ensureNamespace(other)), "created")
    assert.instance(await failure((c) => c.ensureNamespace(ns)), NamespaceConflict)
    assert.instance(await failure((c) => c.deleteNamespace(ns)), NamespaceConflict)
    assert.is((await hooks.inspectNamespace(ns.name))?.labels[projectLabel], other.projectId, "still the other project's")
  })

  test("deleteNamespace reports deleting while the namespace exists, then absent once it is gone", async () => {
    const ns = fresh("delete")
    await succeed((c) => c.ensureNamespace(ns))
    await hooks.holdDeletion(ns.name)
    assert.is(await succeed((c) => c.deleteNamespace(ns)), "deleting")
    assert.equal(await read(ns.name), { kind: "terminating", managed: true } satisfies NamespaceState)
    assert.is(await succeed((c) => c.deleteNamespace(ns)), "deleting", "still there: still deleting")
    await hooks.releaseDeletion(ns.name)
    await poll("deleteNamespace", () => succeed((c) => c.deleteNamespace(ns)), (r) => r === "absent", (r) => assert.is(r, "deleting"))
    assert.equal(await read(ns.name), { kind: "absent" } satisfies NamespaceState)
    assert.is(await hooks.inspectNamespace(ns.name), undefined, "gone from the cluster")
    assert.not.ok((await succeed((c) => c.listManaged())).some((m) => m.name === ns.name), "no longer listed")
  })

  test("deleting a namespace that does not exist reports absent", async () => {
    const ns = fresh("absent")
    assert.is(await succeed((c) => c.deleteNamespace(ns)), "absent")
    assert.equal(await read(ns.name), { kind: "absent" } satisfies NamespaceState)
    assert.is(await hooks.inspectNamespace(ns.name), undefined, "deleting did not create anything")
  })

  test("deleting a foreign namespace is a conflict and leaves it in place", async () => {
    const ns = fresh("keep")
    await hooks.createForeignNamespace(ns.name, { team: "search" })
    const before = await hooks.inspectNamespace(ns.name)
    const error = await failure((c) => c.deleteNamespace(ns))
    assert.instance(error, NamespaceConflict)
    assert.is((error as NamespaceConflict).namespace, ns.name)
    const after = await hooks.inspectNamespace(ns.name)
    assert.ok(after && !after.terminating, "still there, not being deleted")
    assert.equal(after, before)
  })

  test("listManaged returns Fabric's namespaces, not foreign ones", async () => {
    // Three of ours: with a small page size configured, the live layer pages through them.
    const ours = [fresh("list"), fresh("list"), fresh("list")]
    const foreign = fresh("list-foreign")
    await hooks.createForeignNamespace(foreign.name, { team: "infra" })
    for (const ns of ours) await succeed((c) => c.ensureNamespace(ns))
    const listed = await succeed((c) => c.listManaged())
    for (const ns of ours) assert.equal(listed.find((m) => m.name === ns.name), ns)
    assert.not.ok(listed.some((m) => m.name === foreign.name), "foreign namespace not listed")
    assert.is(new Set(listed.map((m) => m.name)).size, listed.length, "no namespace listed twice")
  })

  test("ensureNamespace fails while our namespace is Terminating, and creates it once it is gone", async () => {
    const ns = fresh("terminating")
    await succeed((c) => c.ensureNamespace(ns))
    await hooks.holdDeletion(ns.name)
    assert.is(await succeed((c) => c.deleteNamespace(ns)), "deleting")
    const error = await failure((c) => c.ensureNamespace(ns))
    assert.instance(error, ClusterUnavailable)
    assert.match((error as ClusterUnavailable).reason, /Terminating/)
    assert.equal(await read(ns.name), { kind: "terminating", managed: true } satisfies NamespaceState)
    await hooks.releaseDeletion(ns.name)
    const result = await poll(
      "ensureNamespace after deletion",
      () => cluster((c) => c.ensureNamespace(ns)),
      (exit) => Exit.isSuccess(exit),
      (exit) => {
        const error = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : undefined
        assert.ok(
          error?._tag === "Some" && error.value instanceof ClusterUnavailable && /Terminating/.test(error.value.reason),
          `only Terminating may delay it, got ${Exit.isFailure(exit) ? describeCause(exit.cause) : "success"}`,
        )
      },
    )
    assert.ok(Exit.isSuccess(result) && result.value === "created", "created again")
    assert.equal(await read(ns.name), { kind: "active", managed: true, projectId: ns.projectId } satisfies NamespaceState)
  })

  test("a namespace deleted by hand is created again", async () => {
    const ns = fresh("byhand")
    await succeed((c) => c.ensureNamespace(ns))
    await hooks.deleteNamespaceOutOfBand(ns.name)
    await poll("out-of-band deletion", () => read(ns.name), (s) => s.kind === "absent")
    assert.is(await succeed((c) => c.ensureNamespace(ns)), "created")
    assert.is((await hooks.inspectNamespace(ns.name))?.labels[projectLabel], ns.projectId)
  })

  test("a name that is not a DNS-1123 label is a defect, and nothing is created", async () => {
    const ns = { ...fresh("invalid"), name: `Not_A_Label-${run}` }
    for (const exit of [await cluster((c) => c.ensureNamespace(ns)), await cluster((c) => c.deleteNamespace(ns))]) {
      assert.ok(Exit.isFailure(exit) && Cause.hasDies(exit.cause), "dies")
      assert.match(Cause.pretty(exit.cause), /not a valid namespace name/)
    }
    assert.not.ok((await succeed((c) => c.listManaged())).some((m) => m.projectId === ns.projectId), "nothing created")
  })

  test.run()
}
