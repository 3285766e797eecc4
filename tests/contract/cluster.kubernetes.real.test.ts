// The Cluster contract against a real kube-apiserver (the ones from `npm run infra:up`), with the
// daemon's RBAC-restricted kubeconfig; plus what only the live layer has: unreachable servers,
// authentication and authorization failures, TLS trust.
import { existsSync } from "node:fs"
import { createServer, type AddressInfo } from "node:net"
import { KubeConfig } from "@kubernetes/client-node"
import { Cause, Effect, Exit } from "effect"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { layer, type KubernetesClusterConfig } from "../../adapters/kubernetes/cluster.ts"
import type { KubeConfigOptions } from "../../adapters/kubernetes/kubeconfig.ts"
import { Cluster, ClusterRefused, ClusterUnavailable, type ManagedNamespace } from "../../src/services/cluster.ts"
import { clusterContract } from "./cluster.ts"
import { adminHooks } from "./kubernetes-admin-hooks.ts"

const split = (value: string | undefined) => (value ?? "").split(",").map((s) => s.trim()).filter(Boolean)
const daemonKubeconfigs = split(process.env.FABRIC_KUBECONFIGS)
const adminKubeconfigs = split(process.env.FABRIC_ADMIN_KUBECONFIGS)

const howToStart = 'start the engines with `npm run infra:up`, then `eval "$(npm run -s infra:env)"`'
const problem =
  daemonKubeconfigs.length === 0 || adminKubeconfigs.length !== daemonKubeconfigs.length
    ? `FABRIC_KUBECONFIGS / FABRIC_ADMIN_KUBECONFIGS are not set (or not the same length): ${howToStart}`
    : [daemonKubeconfigs[0]!, adminKubeconfigs[0]!].filter((path) => !existsSync(path)).map((path) => `${path} does not exist (engines stopped?): ${howToStart}`)[0]

if (problem !== undefined) {
  // A real test never skips: without apiservers it fails and says how to get them.
  const missing = suite("Cluster contract: kubernetes")
  missing("real apiservers are configured", () => assert.unreachable(problem))
  missing.run()
} else {
  const daemonPath = daemonKubeconfigs[0]!
  const admin = adminHooks(adminKubeconfigs[0]!)
  const daemon = new KubeConfig()
  daemon.loadFromFile(daemonPath)
  const clusterId = daemon.getCurrentContext()

  // pageSize 2: listing the contract's namespaces takes several pages.
  clusterContract(`kubernetes (${clusterId})`, () => layer({ id: clusterId, kubeconfig: { kind: "file", path: daemonPath }, pageSize: 2 }), admin)

  const live = suite("Cluster live layer: failures only a real apiserver shows")
  const ns: ManagedNamespace = { name: `prj-live-${Date.now().toString(36)}`, projectId: "prj_live", accountId: "acc_live", generation: 1 }
  const shortRetries = { maxRetries: 2, baseDelayMs: 20, maxDelayMs: 100 }

  /** The daemon's kubeconfig with its server, CA or user swapped. */
  const variant = (change: { server?: string; token?: string; withoutCa?: boolean }): KubeConfigOptions => {
    const cluster = daemon.getCurrentCluster()!
    const user = daemon.getCurrentUser()!
    return {
      clusters: [{ ...cluster, server: change.server ?? cluster.server, ...(change.withoutCa ? { caData: undefined, caFile: undefined } : {}) }],
      users: [{ name: user.name, token: change.token ?? user.token }],
      contexts: [{ name: clusterId, cluster: cluster.name, user: user.name }],
      currentContext: clusterId,
    }
  }

  /** A loopback port nothing listens on: bound once by us, then released. */
  const closedPort = () =>
    new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        server.close(() => resolve(port))
      })
    })

  /** The reason of the expected failure: an outage (ClusterUnavailable) unless told it is a refusal. */
  const reasonOf = async (
    config: KubernetesClusterConfig,
    use: (c: Cluster["Service"]) => Effect.Effect<unknown, unknown>,
    expected: typeof ClusterUnavailable | typeof ClusterRefused = ClusterUnavailable,
  ) => {
    const exit = await Effect.runPromiseExit(
      Effect.gen(function* () {
        return yield* use(yield* Cluster)
      }).pipe(Effect.provide(layer(config))),
    )
    if (Exit.isSuccess(exit)) return assert.unreachable(`expected ${expected.name}, got ${JSON.stringify(exit.value)}`) as never
    const error = Cause.findErrorOption(exit.cause)
    if (error._tag === "None" || !(error.value instanceof expected)) {
      return assert.unreachable(`expected ${expected.name}, got ${Cause.pretty(exit.cause)}`) as never
    }
    assert.is(error.value.cluster, clusterId)
    return error.value.reason
  }

  live("a stopped apiserver (closed port) is ClusterUnavailable after bounded retries", async () => {
    // Not 127.0.0.1:1: fetch refuses the ports on its block list ("bad port") before connecting.
    const port = await closedPort()
    const reason = await reasonOf(
      { id: clusterId, kubeconfig: { kind: "options", options: variant({ server: `https://127.0.0.1:${port}` }) }, retry: shortRetries, requestTimeoutMs: 1_000 },
      (c) => c.ensureNamespace(ns),
    )
    assert.match(reason, "NetworkError")
    assert.match(reason, "ECONNREFUSED")
    // Bounded by the attempt count, not by a wall-clock figure (a loaded machine is slow).
    assert.match(reason, "gave up after 3 attempts")
  })

  live("a token the apiserver does not know is Unauthorized, not retried", async () => {
    const reason = await reasonOf(
      { id: clusterId, kubeconfig: { kind: "options", options: variant({ token: "not-a-valid-token" }) }, retry: shortRetries },
      (c) => c.listManaged(),
      ClusterRefused,
    )
    assert.match(reason, "Unauthorized (HTTP 401)")
    assert.match(reason, "not retried")
  })

  live("a token without RBAC rights on namespaces gets Forbidden, with the apiserver's explanation", async () => {
    // A service account with no role binding: what the daemon gets if its ClusterRoleBinding is missing.
    const account = `fabric-contract-norbac-${Date.now().toString(36)}`
    await admin.core.createNamespacedServiceAccount({ namespace: "default", body: { metadata: { name: account } } })
    try {
      const token = await admin.core.createNamespacedServiceAccountToken({
        name: account,
        namespace: "default",
        body: { spec: { audiences: [], expirationSeconds: 600 } },
      })
      const config: KubernetesClusterConfig = {
        id: clusterId,
        kubeconfig: { kind: "options", options: variant({ token: token.status?.token }) },
        retry: shortRetries,
      }
      const listReason = await reasonOf(config, (c) => c.listManaged(), ClusterRefused)
      assert.match(listReason, "Forbidden (HTTP 403)")
      assert.match(listReason, `cannot list resource "namespaces"`)
      assert.match(listReason, "not retried")
      const createReason = await reasonOf(config, (c) => c.ensureNamespace(ns), ClusterRefused)
      assert.match(createReason, "Forbidden (HTTP 403)")
      assert.match(createReason, `cannot create resource "namespaces"`)
      assert.is(await admin.inspectNamespace(ns.name), undefined, "nothing was created")
    } finally {
      await admin.core.deleteNamespacedServiceAccount({ name: account, namespace: "default" }).catch(() => {})
    }
  })

  live("a server certificate the kubeconfig does not trust is a TLS error, not retried", async () => {
    const reason = await reasonOf(
      { id: clusterId, kubeconfig: { kind: "options", options: variant({ withoutCa: true }) }, retry: shortRetries },
      (c) => c.listManaged(),
    )
    assert.match(reason, "TLSError")
    assert.match(reason, "not retried")
  })

  live.run()
}
