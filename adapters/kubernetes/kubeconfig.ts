// Where a daemon finds its cluster credentials. Parsed once at the edge into one of these; the
// client library reads files and the in-cluster environment itself (its Node APIs, not ours).
import { KubeConfig, type Cluster, type Context, type User } from "@kubernetes/client-node"

export interface KubeConfigOptions {
  readonly clusters: ReadonlyArray<Cluster>
  readonly users: ReadonlyArray<User>
  readonly contexts: ReadonlyArray<Context>
  readonly currentContext: string
}

export type KubeconfigSource =
  /** A kubeconfig file; `context` overrides its current-context. */
  | { readonly kind: "file"; readonly path: string; readonly context?: string }
  /** The same, as YAML text (e.g. from a secret). */
  | { readonly kind: "yaml"; readonly yaml: string; readonly context?: string }
  | { readonly kind: "options"; readonly options: KubeConfigOptions }
  /** The pod's service account (KUBERNETES_SERVICE_HOST, /var/run/secrets/kubernetes.io/serviceaccount). */
  | { readonly kind: "in-cluster" }

export const loadKubeConfig = (source: KubeconfigSource): KubeConfig => {
  const kc = new KubeConfig()
  switch (source.kind) {
    case "file":
      kc.loadFromFile(source.path)
      if (source.context) kc.setCurrentContext(source.context)
      break
    case "yaml":
      kc.loadFromString(source.yaml)
      if (source.context) kc.setCurrentContext(source.context)
      break
    case "options":
      kc.loadFromOptions(source.options)
      break
    case "in-cluster":
      kc.loadFromCluster()
      break
  }
  if (!kc.getCurrentCluster()) {
    throw new Error(`kubeconfig (${source.kind}) has no cluster for context "${kc.getCurrentContext()}"`)
  }
  return kc
}

/** Cluster ids default to the kubeconfig's current-context name (what infra.sh writes). */
export const currentContextOf = (source: KubeconfigSource): string => loadKubeConfig(source).getCurrentContext()
