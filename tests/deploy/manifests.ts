// The Kubernetes manifests of deploy/kubernetes, read the way kustomize builds them, without the
// kustomize binary: the overlays use only `resources` (files and directories), and `render`
// refuses any other kustomization field, so what it returns is what `kubectl kustomize` returns
// (tests/deploy/manifests.test.ts compares the two whenever kubectl is on the PATH).
// js-yaml comes with @kubernetes/client-node (a dependency); its loadAllYaml would turn the
// objects into client models and drop unknown fields, which is the opposite of what a test wants.
import { existsSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { loadAll } from "js-yaml"

export const repoRoot = new URL("../..", import.meta.url).pathname
export const manifestsDir = join(repoRoot, "deploy/kubernetes")
export const overlays = ["hub", "migrate", "member"] as const
export type Overlay = (typeof overlays)[number]

/** A Kubernetes object as written in the YAML: nothing is dropped or renamed. */
// biome-ignore lint: the manifests are free-form
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [key: string]: any }

const allowedKustomizationFields = new Set(["apiVersion", "kind", "resources"])

export const objectId = (o: K8sObject) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`

const readDocs = (file: string): K8sObject[] =>
  (loadAll(readFileSync(file, "utf8")) as unknown[]).filter((d) => d !== null && d !== undefined).map((d) => {
    const o = d as K8sObject
    if (typeof o.apiVersion !== "string" || typeof o.kind !== "string" || typeof o.metadata?.name !== "string") {
      throw new Error(`${relative(repoRoot, file)}: a document without apiVersion, kind or metadata.name`)
    }
    return o
  })

/** The objects a kustomization directory builds to, in kustomize's `resources` order. */
export const render = (dir: string): K8sObject[] => {
  const file = join(dir, "kustomization.yaml")
  if (!existsSync(file)) throw new Error(`${relative(repoRoot, dir)} has no kustomization.yaml`)
  const k = loadAll(readFileSync(file, "utf8"))[0] as Record<string, unknown>
  if (k.apiVersion !== "kustomize.config.k8s.io/v1beta1" || k.kind !== "Kustomization") throw new Error(`${relative(repoRoot, file)}: not a Kustomization`)
  const unknown = Object.keys(k).filter((key) => !allowedKustomizationFields.has(key))
  if (unknown.length > 0) {
    throw new Error(`${relative(repoRoot, file)} uses ${unknown.join(", ")}: tests/deploy/manifests.ts renders only 'resources' (extend it, and its comparison with kubectl kustomize, first)`)
  }
  const out: K8sObject[] = []
  for (const entry of (k.resources ?? []) as string[]) {
    const path = join(dir, entry)
    if (!existsSync(path)) throw new Error(`${relative(repoRoot, file)}: resource ${entry} does not exist`)
    out.push(...(statSync(path).isDirectory() ? render(path) : readDocs(path)))
  }
  const seen = new Set<string>()
  for (const o of out) {
    if (seen.has(objectId(o))) throw new Error(`${relative(repoRoot, dir)}: ${objectId(o)} appears twice`)
    seen.add(objectId(o))
  }
  return out
}

export const renderOverlay = (overlay: Overlay | "base") => render(join(manifestsDir, overlay))

export const find = (objects: ReadonlyArray<K8sObject>, kind: string, name: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name)
  if (!o) throw new Error(`no ${kind} ${name} in the manifests`)
  return o
}

/** Deployments and Jobs: their pod templates. */
export const podSpecs = (objects: ReadonlyArray<K8sObject>) =>
  objects.filter((o) => o.kind === "Deployment" || o.kind === "Job").map((o) => ({ owner: `${o.kind} ${o.metadata.name}`, spec: o.spec.template.spec, labels: o.spec.template.metadata?.labels ?? {} }))

/**
 * The rules the daemon's ClusterRole must grant, exactly: what adapters/kubernetes/cluster.ts
 * calls on namespaces (readNamespace = get, listNamespace = list, createNamespace = create,
 * deleteNamespace = delete), and on the custom objects of the catalogue's kinds, one rule per
 * group (`kinds`: deploy/crds). Widening the role (watch, update, another resource, secrets)
 * must change this list too, on purpose.
 */
export const daemonRules = (kinds: ReadonlyArray<{ readonly group: string; readonly plural: string }>) => [
  { apiGroups: [""], resources: ["namespaces"], verbs: ["create", "delete", "get", "list"] },
  ...[...new Set(kinds.map((k) => k.group))].sort().map((group) => ({
    apiGroups: [group], resources: kinds.filter((k) => k.group === group).map((k) => k.plural).sort(), verbs: ["create", "delete", "get", "list", "patch"],
  })),
]

/** Which RBAC verb each CoreV1Api namespace method needs. */
export const verbOfCoreCall: Record<string, string> = {
  readNamespace: "get", readNamespaceStatus: "get", listNamespace: "list", createNamespace: "create",
  deleteNamespace: "delete", patchNamespace: "patch", patchNamespaceStatus: "patch",
  replaceNamespace: "update", replaceNamespaceStatus: "update", replaceNamespaceFinalize: "update",
}

/**
 * Which RBAC verbs each CustomObjectsApi method needs: a server-side apply that creates the object
 * is authorized as a create too; getAPIResources is discovery, which needs no rule.
 */
export const verbsOfCustomObjectCall: Record<string, ReadonlyArray<string>> = {
  getNamespacedCustomObject: ["get"], listClusterCustomObject: ["list"], listNamespacedCustomObject: ["list"], createNamespacedCustomObject: ["create"],
  patchNamespacedCustomObject: ["patch", "create"], replaceNamespacedCustomObject: ["update"], deleteNamespacedCustomObject: ["delete"], getAPIResources: [],
}

/**
 * The Secrets an operator creates (README.md, "Install on Kubernetes") and their keys; the
 * manifests only refer to them. ca.crt is optional in both: a private CA, named by the url's
 * sslrootcert (fabric-database) or by FABRIC_KAFKA_TLS_CA_FILE (fabric-kafka).
 */
export const documentedSecrets: Record<string, ReadonlyArray<string>> = {
  "fabric-database": ["url", "ca.crt"],
  "fabric-admin": ["token"],
  "fabric-kafka": ["brokers", "username", "password", "ca.crt"],
}
