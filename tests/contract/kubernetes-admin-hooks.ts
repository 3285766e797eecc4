// The contract's out-of-band hands on a real apiserver, with the admin kubeconfig (system:masters):
// what an operator with kubectl would do behind the daemon's back.
import { ApiException, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node"
import type { ClusterContractHooks } from "./cluster.ts"

// A ConfigMap with a finalizer keeps its namespace Terminating until the finalizer is removed:
// the namespace controller cannot finish while content remains.
const holdName = "fabric-contract-hold"
const holdFinalizer = "fabric.demeter.run/contract-hold"

const ignoreNotFound = (error: unknown): undefined => {
  if (error instanceof ApiException && error.code === 404) return undefined
  throw error
}

export const adminHooks = (adminKubeconfigPath: string): ClusterContractHooks & { readonly core: CoreV1Api } => {
  const kc = new KubeConfig()
  kc.loadFromFile(adminKubeconfigPath)
  const core = kc.makeApiClient(CoreV1Api)
  return {
    core,
    createForeignNamespace: async (name, labels) => {
      await core.createNamespace({ body: { metadata: { name, labels: { ...labels } } } })
    },
    deleteNamespaceOutOfBand: async (name) => {
      await core.deleteNamespace({ name }).catch(ignoreNotFound)
    },
    inspectNamespace: async (name) => {
      const ns = await core.readNamespace({ name }).catch(ignoreNotFound)
      if (!ns) return undefined
      return {
        labels: { ...ns.metadata?.labels },
        annotations: { ...ns.metadata?.annotations },
        terminating: ns.status?.phase === "Terminating" || ns.metadata?.deletionTimestamp !== undefined,
      }
    },
    holdDeletion: async (name) => {
      await core.createNamespacedConfigMap({ namespace: name, body: { metadata: { name: holdName, finalizers: [holdFinalizer] } } })
    },
    releaseDeletion: async (name) => {
      await core
        .patchNamespacedConfigMap(
          { name: holdName, namespace: name, body: { metadata: { finalizers: null } } },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        )
        .catch(ignoreNotFound)
    },
    // The namespace controller requeues with backoff; an empty namespace usually goes in seconds.
    deletionDeadlineMs: 60_000,
  }
}
