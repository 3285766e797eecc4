// The live Cluster layer: one cluster's namespaces through @kubernetes/client-node, every request
// rate-limited, timed out and retried (./requests.ts). A namespace Fabric does not own is never
// modified; a namespace being deleted is reported as such, never as success.
import { CoreV1Api, type V1Namespace } from "@kubernetes/client-node"
import { Effect, Layer } from "effect"
import { ClusterId } from "../../src/domain/cluster.ts"
import { Cluster, ClusterRefused, ClusterUnavailable, type ManagedNamespace } from "../../src/services/cluster.ts"
import { managedMetadataFor, managedNamespaceFrom, managedSelector, requireOwned, requireValidName, stillTerminating } from "../namespace-rules.ts"
import { type ApiFailure, describeFailure, isRefusal } from "./api-failure.ts"
import { loadKubeConfig, type KubeconfigSource } from "./kubeconfig.ts"
import { makeRequester, type RetryPolicy } from "./requests.ts"

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

export const layer = (config: KubernetesClusterConfig): Layer.Layer<Cluster, ClusterUnavailable> =>
  Layer.effect(
    Cluster,
    Effect.gen(function* () {
      const cluster = ClusterId.make(config.id)
      const core = yield* Effect.try({
        try: () => loadKubeConfig(config.kubeconfig).makeApiClient(CoreV1Api),
        catch: (error) => new ClusterUnavailable({ cluster, reason: `cannot load kubeconfig: ${error instanceof Error ? error.message : String(error)}` }),
      })
      const { send, close } = yield* Effect.acquireRelease(
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

      const listManaged = Effect.fn("Cluster.listManaged")(
        function* () {
          // A continue token expires (410 Gone) if listing takes longer than the apiserver keeps
          // it; start over then, a few times at most.
          for (let restarts = 0; ; restarts++) {
            const items: V1Namespace[] = []
            let token: string | undefined
            const expired = yield* Effect.gen(function* () {
              do {
                const page = yield* send("list namespaces", (options) =>
                  core.listNamespace({ labelSelector: managedSelector, limit: pageSize, _continue: token }, options),
                )
                items.push(...page.items)
                token = page.metadata?._continue || undefined
              } while (token)
              return false
            }).pipe(Effect.catch((failure) => (failure.status === 410 && restarts < 3 ? Effect.succeed(true) : Effect.fail(failure))))
            if (!expired) {
              return items.map((ns) => managedNamespaceFrom(ns.metadata?.name ?? "", ns.metadata?.labels, ns.metadata?.annotations))
            }
          }
        },
        Effect.catchTag("ApiFailure", unavailable),
      )

      return Cluster.of({ id: cluster, ensureNamespace, deleteNamespace, listManaged })
    }),
  )
