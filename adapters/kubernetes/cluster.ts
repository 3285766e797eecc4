// The live Cluster layer: one cluster's namespaces and the custom objects of the catalogued kinds
// in them, through @kubernetes/client-node, every request rate-limited, timed out and retried
// (./requests.ts). A namespace or object Fabric does not own is never modified; one being deleted
// is reported as such, never as success. An object is server-side applied, field manager
// `fabric`, so Fabric owns every field it sets from the start (and a field it stops setting goes):
// created, once a read found nothing there, with an apply that is NOT forced (a foreign object that
// appeared in between conflicts with it, and is then read and refused: never adopted); changed
// with an apply that is forced (Fabric's fields win over a hand edit: that is drift) and guarded
// by the resourceVersion it was read at (an object replaced in between is read again).
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Namespace, type V1ObjectMeta } from "@kubernetes/client-node"
import { Effect, Layer } from "effect"
import { ClusterId } from "../../src/domain/cluster.ts"
import type { Kind } from "../../src/domain/kind.ts"
import {
  Cluster,
  ClusterRefused,
  ClusterUnavailable,
  fieldManager,
  isObjectOf,
  KindNotServed,
  NamespaceMissing,
  objectAnnotationsFor,
  objectLabelsFor,
  ObjectConflict,
  type ManagedNamespace,
  type ManagedObject,
  type ObjectStatus,
} from "../../src/services/cluster.ts"
import {
  conditionsOf, listedObjectFrom, managedMetadataFor, managedNamespaceFrom, managedSelector, objectNeedsApply, requireOwned, requireValidName, stillTerminating,
} from "../namespace-rules.ts"
import { type ApiFailure, describeFailure, isRefusal } from "./api-failure.ts"
import { loadKubeConfig, type KubeconfigSource } from "./kubeconfig.ts"
import { makeRequester, type RetryPolicy } from "./requests.ts"
import type { ConfigurationOptions } from "@kubernetes/client-node"

export type { KubeconfigSource } from "./kubeconfig.ts"

export interface KubernetesClusterConfig {
  /** Fabric's id for this cluster (by convention the kubeconfig context name). */
  readonly id: string
  readonly kubeconfig: KubeconfigSource
  /** Client-side rate limit: sustained requests per second (default 20) and burst (default 40). */
  readonly qps?: number
  readonly burst?: number
  /** Per attempt (default 10 s). */
  readonly requestTimeoutMs?: number
  /** Default: 5 retries, 200 ms doubling up to 5 s, jittered. */
  readonly retry?: Partial<RetryPolicy>
  /** Namespaces per list page (default 500). */
  readonly pageSize?: number
}

const defaultRetry: RetryPolicy = { maxRetries: 5, baseDelayMs: 200, maxDelayMs: 5_000 }

const isTerminating = (ns: V1Namespace): boolean =>
  ns.status?.phase === "Terminating" || ns.metadata?.deletionTimestamp !== undefined

/** A custom object as the apiserver returns it (CustomObjectsApi types it `any`). */
interface CustomObject {
  readonly metadata?: V1ObjectMeta
  readonly spec?: unknown
  readonly status?: unknown
}

const statusOf = (o: CustomObject): ObjectStatus => ({ objectGeneration: o.metadata?.generation ?? 0, conditions: conditionsOf(o.status) })

/** The object an apply sends: Fabric's fields only (the fields it owns as field manager `fabric`). */
const appliedObject = (o: ManagedObject, resourceVersion?: string) => ({
  apiVersion: o.kind.apiVersion,
  kind: o.kind.kind,
  metadata: {
    name: o.name, namespace: o.namespace, labels: objectLabelsFor(o), annotations: objectAnnotationsFor(o),
    ...(resourceVersion === undefined ? {} : { resourceVersion }),
  },
  spec: o.spec,
})

export const layer = (config: KubernetesClusterConfig): Layer.Layer<Cluster, ClusterUnavailable> =>
  Layer.effect(
    Cluster,
    Effect.gen(function* () {
      const cluster = ClusterId.make(config.id)
      const { core, objects } = yield* Effect.try({
        try: () => {
          const kc = loadKubeConfig(config.kubeconfig)
          return { core: kc.makeApiClient(CoreV1Api), objects: kc.makeApiClient(CustomObjectsApi) }
        },
        catch: (error) => new ClusterUnavailable({ cluster, reason: `cannot load kubeconfig: ${error instanceof Error ? error.message : String(error)}` }),
      })
      const { send } = yield* Effect.acquireRelease(
        Effect.sync(() =>
          makeRequester({
            qps: config.qps ?? 20,
            burst: config.burst ?? 40,
            timeoutMs: config.requestTimeoutMs ?? 10_000,
            retry: { ...defaultRetry, ...config.retry },
          }),
        ),
        (requester) => requester.close,
      )
      const pageSize = config.pageSize ?? 500

      const unavailable = (failure: ApiFailure) => Effect.fail(isRefusal(failure)
        ? new ClusterRefused({ cluster, reason: describeFailure(failure) })
        : new ClusterUnavailable({ cluster, reason: describeFailure(failure) }))
      const onStatus = <A>(status: number, value: () => A) => (failure: ApiFailure) =>
        failure.status === status ? Effect.succeed(value()) : Effect.fail(failure)

      /** The namespace, or undefined when the apiserver says NotFound. */
      const read = (name: string) =>
        send(`read namespace ${name}`, (options) => core.readNamespace({ name }, options)).pipe(
          Effect.catch(onStatus(404, () => undefined)),
        )

      const ensureNamespace = Effect.fn("Cluster.ensureNamespace")(
        function* (ns: ManagedNamespace) {
          yield* requireValidName(ns.name)
          const body: V1Namespace = {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: ns.name, ...managedMetadataFor(ns) },
          }
          // AlreadyExists: ours (fine), someone else's (conflict), or ours being deleted. When it
          // vanishes between the 409 and the read (its deletion just finished), create again.
          let existing: V1Namespace | undefined
          for (let tries = 1; existing === undefined; tries++) {
            const created = yield* send(`create namespace ${ns.name}`, (options) => core.createNamespace({ body }, options)).pipe(
              Effect.as(true),
              Effect.catch(onStatus(409, () => false)),
            )
            if (created) return "created" as const
            existing = yield* read(ns.name)
            if (existing === undefined && tries === 3) {
              return yield* new ClusterUnavailable({ cluster, reason: `namespace "${ns.name}" keeps vanishing while being created; retry` })
            }
          }
          yield* requireOwned(cluster, ns, existing.metadata?.labels)
          if (isTerminating(existing)) return yield* stillTerminating(cluster, ns.name)
          return "unchanged" as const
        },
        Effect.catchTag("ApiFailure", unavailable),
      )

      const deleteNamespace = Effect.fn("Cluster.deleteNamespace")(
        function* (ns: ManagedNamespace) {
          yield* requireValidName(ns.name)
          const existing = yield* read(ns.name)
          if (!existing) return "absent" as const
          yield* requireOwned(cluster, ns, existing.metadata?.labels)
          if (isTerminating(existing)) return "deleting" as const
          // The uid precondition makes sure we delete the namespace we just checked, not one
          // recreated by someone else in between (that answers 409 Conflict).
          const body = { preconditions: { uid: existing.metadata?.uid } }
          return yield* send(`delete namespace ${ns.name}`, (options) => core.deleteNamespace({ name: ns.name, body }, options)).pipe(
            Effect.as("deleting" as const),
            Effect.catch((failure): Effect.Effect<"absent", ApiFailure | ClusterUnavailable> => {
              if (failure.status === 404) return Effect.succeed("absent")
              if (failure.status === 409) {
                return Effect.fail(new ClusterUnavailable({ cluster, reason: `namespace "${ns.name}" was replaced while being deleted; retry` }))
              }
              return Effect.fail(failure)
            }),
          )
        },
        Effect.catchTag("ApiFailure", unavailable),
      )

      /**
       * Every item of a paged list. A continue token expires (410 Gone) if listing takes longer
       * than the apiserver keeps it; start over then, a few times at most.
       */
      const allPages = <A>(operation: string, page: (token: string | undefined, options: ConfigurationOptions) => Promise<{ items: A[]; metadata?: { _continue?: string } }>) =>
        Effect.gen(function* () {
          for (let restarts = 0; ; restarts++) {
            const items: A[] = []
            let token: string | undefined
            const expired = yield* Effect.gen(function* () {
              do {
                const next = yield* send(operation, (options) => page(token, options))
                items.push(...next.items)
                token = next.metadata?._continue || undefined
              } while (token)
              return false
            }).pipe(Effect.catch((failure) => (failure.status === 410 && restarts < 3 ? Effect.succeed(true) : Effect.fail(failure))))
            if (!expired) return items
          }
        })

      const listManaged = Effect.fn("Cluster.listManaged")(
        function* () {
          const items = yield* allPages("list namespaces", (token, options) =>
            core.listNamespace({ labelSelector: managedSelector, limit: pageSize, _continue: token }, options))
          return items.map((ns) => managedNamespaceFrom(ns.metadata?.name ?? "", ns.metadata?.labels, ns.metadata?.annotations))
        },
        Effect.catchTag("ApiFailure", unavailable),
      )

      // --- custom objects of the catalogued kinds -------------------------------------------

      const notServed = (kind: Kind) => new KindNotServed({ cluster, kind: `${kind.apiVersion} ${kind.kind}` })
      const describe = (o: ManagedObject) => `${o.kind.kind} ${o.namespace}/${o.name}`
      const where = (o: ManagedObject) => ({ group: o.kind.group, version: o.kind.version, namespace: o.namespace, plural: o.kind.plural, name: o.name })

      /** Discovery: a group version the cluster does not serve answers 404. */
      const servedKinds = Effect.fn("Cluster.servedKinds")(
        function* (kinds: ReadonlyArray<Kind>) {
          const served = new Set<string>()
          for (const apiVersion of new Set(kinds.map((k) => k.apiVersion))) {
            const [group, version] = apiVersion.split("/") as [string, string]
            const resources = yield* send(`discover ${apiVersion}`, (options) => objects.getAPIResources({ group, version }, options)).pipe(
              Effect.catch(onStatus(404, () => undefined)),
            )
            for (const k of kinds) if (k.apiVersion === apiVersion && resources?.resources.some((r) => r.name === k.plural)) served.add(k.kind)
          }
          return served as ReadonlySet<string>
        },
        Effect.catchTag("ApiFailure", unavailable),
      )

      /** The object, or undefined when the apiserver says NotFound (absent, or its kind not served). */
      const readObject = (o: ManagedObject) =>
        send(`read ${describe(o)}`, (options) => objects.getNamespacedCustomObject(where(o), options) as Promise<CustomObject>).pipe(
          Effect.catch(onStatus(404, () => undefined)),
        )

      /**
       * Server-side apply of Fabric's fields (the apiserver authorizes one that creates the object
       * as a create too). `resourceVersion`: only if the object is still the one read at it.
       */
      const apply = (o: ManagedObject, resourceVersion: string | undefined, force: boolean) =>
        send(`apply ${describe(o)}`, (options) =>
          objects.patchNamespacedCustomObject(
            { ...where(o), body: appliedObject(o, resourceVersion), fieldManager, force },
            setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply, options),
          ) as Promise<CustomObject>)

      /** A 404 on create: the namespace is missing, or the kind is no longer served. */
      const createNotFound = (o: ManagedObject) =>
        read(o.namespace).pipe(Effect.flatMap((ns) => Effect.fail(ns === undefined ? new NamespaceMissing({ cluster, namespace: o.namespace }) : notServed(o.kind))))

      const applyObject = Effect.fn("Cluster.applyObject")(
        function* (o: ManagedObject) {
          yield* requireValidName(o.name)
          for (let tries = 1; tries <= 3; tries++) {
            const existing = yield* readObject(o)
            if (existing === undefined) {
              // 409: someone created it since the read, with other values (ours or not: read it again to know).
              const created = yield* apply(o, undefined, false).pipe(
                Effect.catch((failure) =>
                  failure.status === 409 ? Effect.succeed(undefined) : failure.status === 404 ? createNotFound(o) : Effect.fail(failure)),
              )
              if (created !== undefined) return statusOf(created)
              continue
            }
            if (!isObjectOf(existing.metadata?.labels, o)) return yield* new ObjectConflict({ cluster, namespace: o.namespace, kind: o.kind.kind, name: o.name })
            if (existing.metadata?.deletionTimestamp !== undefined) {
              return yield* new ClusterUnavailable({ cluster, reason: `${describe(o)} is being deleted; it can be created again once it is gone, retry later` })
            }
            const current = { spec: existing.spec, labels: existing.metadata?.labels, annotations: existing.metadata?.annotations }
            if (!objectNeedsApply(current, o)) return statusOf(existing)
            // 409: changed since the read (the resourceVersion precondition), so read it again.
            const applied = yield* apply(o, existing.metadata?.resourceVersion, true).pipe(Effect.catch(onStatus(409, () => undefined)))
            if (applied !== undefined) return statusOf(applied)
          }
          return yield* new ClusterUnavailable({ cluster, reason: `${describe(o)} keeps changing while being applied; retry` })
        },
        Effect.catchTag("ApiFailure", unavailable),
      )

      const deleteObject = Effect.fn("Cluster.deleteObject")(
        function* (o: ManagedObject) {
          const existing = yield* readObject(o)
          if (existing === undefined) return "absent" as const
          if (!isObjectOf(existing.metadata?.labels, o)) return yield* new ObjectConflict({ cluster, namespace: o.namespace, kind: o.kind.kind, name: o.name })
          if (existing.metadata?.deletionTimestamp !== undefined) return "deleting" as const
          // As for a namespace: the uid precondition deletes the object just checked, not a replacement.
          return yield* send(`delete ${describe(o)}`, (options) =>
            objects.deleteNamespacedCustomObject({ ...where(o), body: { preconditions: { uid: existing.metadata?.uid } } }, options)).pipe(
            Effect.as("deleting" as const),
            Effect.catch((failure): Effect.Effect<"absent", ApiFailure | ClusterUnavailable> => {
              if (failure.status === 404) return Effect.succeed("absent")
              if (failure.status === 409) return Effect.fail(new ClusterUnavailable({ cluster, reason: `${describe(o)} was replaced while being deleted; retry` }))
              return Effect.fail(failure)
            }),
          )
        },
        Effect.catchTag("ApiFailure", unavailable),
      )

      const listManagedObjects = Effect.fn("Cluster.listManagedObjects")(
        function* (kind: Kind) {
          const [group, version] = kind.apiVersion.split("/") as [string, string]
          const items = yield* allPages(`list ${kind.plural}`, (token, options) =>
            objects.listClusterCustomObject({ group, version, plural: kind.plural, labelSelector: managedSelector, limit: pageSize, _continue: token }, options) as Promise<{ items: CustomObject[]; metadata?: { _continue?: string } }>).pipe(
            Effect.catch((failure): Effect.Effect<never, ApiFailure | KindNotServed> => Effect.fail(failure.status === 404 ? notServed(kind) : failure)),
          )
          return items.map((o) => listedObjectFrom({
            namespace: o.metadata?.namespace ?? "", name: o.metadata?.name ?? "", labels: o.metadata?.labels, annotations: o.metadata?.annotations,
            spec: o.spec, generation: o.metadata?.generation ?? 0, conditions: conditionsOf(o.status),
          }))
        },
        Effect.catchTag("ApiFailure", unavailable),
      )

      return Cluster.of({ id: cluster, ensureNamespace, deleteNamespace, listManaged, servedKinds, applyObject, deleteObject, listManagedObjects })
    }),
  )
