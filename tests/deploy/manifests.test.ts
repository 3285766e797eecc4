// deploy/kubernetes and the Containerfile, checked without a cluster or a container runtime:
// the overlays build (and, when kubectl is on the PATH, build the same as `kubectl kustomize`);
// the daemon's ClusterRole grants exactly what the daemon calls; the pods are locked down and
// drain within their grace period; every setting they pass is one Fabric reads; and the image
// copies everything `fabric` imports and no devDependency is needed at run time.
// tests/deploy/manifests.real.test.ts applies the same objects to a real apiserver.
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { builtinModules } from "node:module"
import { dirname, join, relative, resolve } from "node:path"
import { loadAll } from "js-yaml"
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { parseArgs } from "../../src/cli/args.ts"
import { parseConfig } from "../../src/processes/config.ts"
import { Effect } from "effect"
import { defaultCrdDirectory, readCrdDirectory } from "../../adapters/catalogue/crd-files.ts"
import { daemonGrants, kafkaAclsCommands, rpcGrants } from "../../src/processes/kafka-acls.ts"
import {
  daemonRules, documentedSecrets, find, manifestsDir, objectId, overlays, podSpecs, render, renderOverlay, repoRoot, verbOfCoreCall,
  verbsOfCustomObjectCall, type K8sObject,
} from "./manifests.ts"

const test = suite("deploy/kubernetes manifests and the Containerfile")

const all = () => overlays.flatMap((o) => renderOverlay(o))
const read = (path: string) => readFileSync(join(repoRoot, path), "utf8")
const normalizeRules = (rules: ReadonlyArray<Record<string, string[]>>) =>
  rules.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, [...v].sort()])))

test("every overlay builds from plain resources; kubectl kustomize (when installed) builds the same objects", () => {
  const hasKubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" }).status === 0
  for (const overlay of ["base", ...overlays] as const) {
    const mine = render(join(manifestsDir, overlay))
    assert.ok(mine.length > 0, overlay)
    for (const o of mine) assert.ok(o.kind === "Namespace" || o.kind.startsWith("Cluster") || o.metadata.namespace === "fabric", `${objectId(o)} is not in namespace fabric`)
    if (!hasKubectl) continue
    const built = spawnSync("kubectl", ["kustomize", join(manifestsDir, overlay)], { encoding: "utf8" })
    assert.is(built.status, 0, built.stderr)
    const theirs = (loadAll(built.stdout) as K8sObject[]).filter(Boolean)
    const byId = (xs: K8sObject[]) => Object.fromEntries(xs.map((o) => [objectId(o), o]))
    assert.equal(byId(mine), byId(theirs), `${overlay}: tests/deploy/manifests.ts and kubectl kustomize disagree`)
  }
  if (!hasKubectl) console.log("  (kubectl not on PATH: the comparison with kubectl kustomize was skipped)")
})

test("the operator's example overlays (examples/, README.md) build with kubectl kustomize: the image and the cluster id replaced, nothing else", () => {
  if (spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" }).status !== 0) {
    console.log("  (kubectl not on PATH: the example overlays were not built)")
    return
  }
  const examples: Record<string, "hub" | "migrate" | "member"> = { hub: "hub", migrate: "migrate", "member-eu-1": "member" }
  for (const [example, overlay] of Object.entries(examples)) {
    const built = spawnSync("kubectl", ["kustomize", join(manifestsDir, "examples", example)], { encoding: "utf8" })
    assert.is(built.status, 0, built.stderr)
    const theirs = (loadAll(built.stdout) as K8sObject[]).filter(Boolean)
    // Undo what the example changes; the rest must be the overlay as it is.
    for (const o of theirs) {
      for (const c of podSpecs([o])[0]?.spec.containers ?? []) {
        assert.is(c.image, "registry.example.com/fabric:0.1.0")
        c.image = "fabric:0.1.0"
      }
      if (o.kind === "ConfigMap" && o.metadata.name === "fabric-member") {
        assert.is(o.data.FABRIC_CLUSTER_ID, "eu-1")
        o.data.FABRIC_CLUSTER_ID = find(renderOverlay("member"), "ConfigMap", "fabric-member").data.FABRIC_CLUSTER_ID
      }
    }
    const byId = (xs: K8sObject[]) => Object.fromEntries(xs.map((o) => [objectId(o), o]))
    assert.equal(byId(theirs), byId(renderOverlay(overlay)), example)
    assert.ok(read("README.md").includes(`deploy/kubernetes/examples/${example}`), `README.md mentions examples/${example}`)
  }
})

test("the daemon's ClusterRole grants exactly what adapters/kubernetes/cluster.ts calls, on namespaces and the catalogued kinds only; nothing else is granted", async () => {
  const member = renderOverlay("member")
  const roles = all().filter((o) => o.kind === "ClusterRole" || o.kind === "Role")
  assert.equal(roles.map((r) => `${r.kind} ${r.metadata.name}`), ["ClusterRole fabric-daemon"], "the only role in the manifests")
  const role = find(member, "ClusterRole", "fabric-daemon")
  const catalogue = await Effect.runPromise(readCrdDirectory(defaultCrdDirectory))
  const expected = daemonRules(catalogue)
  assert.equal(normalizeRules(role.rules), normalizeRules(expected))
  assert.equal(expected[1], { apiGroups: ["demeter.run"], resources: ["cardanonodeports", "kupoports"], verbs: ["create", "delete", "get", "list", "patch"] })
  assert.is(role.aggregationRule, undefined)

  // The calls the daemon makes: every CoreV1Api and CustomObjectsApi method the live Cluster layer uses, as verbs.
  const source = read("adapters/kubernetes/cluster.ts")
  const calls = [...new Set([...source.matchAll(/\bcore\.(\w+)\(/g)].map((m) => m[1]!))]
  for (const call of calls) assert.ok(verbOfCoreCall[call], `adapters/kubernetes/cluster.ts calls core.${call}: add its verb to verbOfCoreCall, and the role`)
  assert.equal([...new Set(calls.map((c) => verbOfCoreCall[c]!))].sort(), expected[0]!.verbs)
  const objectCalls = [...new Set([...source.matchAll(/\bobjects\.(\w+)\(/g)].map((m) => m[1]!))]
  for (const call of objectCalls) assert.ok(call in verbsOfCustomObjectCall, `adapters/kubernetes/cluster.ts calls objects.${call}: add its verbs to verbsOfCustomObjectCall, and the role`)
  assert.equal([...new Set(objectCalls.flatMap((c) => verbsOfCustomObjectCall[c]!))].sort(), expected[1]!.verbs)
  assert.ok(/makeApiClient\(CoreV1Api\)/.test(source))
  assert.ok(/makeApiClient\(CustomObjectsApi\)/.test(source))

  const binding = find(member, "ClusterRoleBinding", "fabric-daemon")
  assert.equal(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "fabric-daemon" })
  assert.equal(binding.subjects, [{ kind: "ServiceAccount", name: "fabric-daemon", namespace: "fabric" }])
  assert.is(all().filter((o) => o.kind.endsWith("RoleBinding")).length, 1)
  find(member, "ServiceAccount", "fabric-daemon")
  assert.is(find(member, "Deployment", "fabric-daemon").spec.template.spec.serviceAccountName, "fabric-daemon")

  // The test engines use this very file (deploy/infra/infra.sh applies it; no copy of its own).
  assert.ok(read("deploy/infra/infra.sh").includes('"$REPO/deploy/kubernetes/member/daemon-clusterrole.yaml"'), "infra.sh applies the manifest's ClusterRole")
  assert.not.ok(existsSync(join(repoRoot, "deploy/infra/daemon-clusterrole.json")), "no second copy of the role")
})

test("pods: non-root, read-only root filesystem, no capabilities, seccomp RuntimeDefault, requests and limits", () => {
  const pods = podSpecs(all())
  assert.equal(pods.map((p) => p.owner).sort(), ["Deployment fabric-daemon", "Deployment fabric-rpc", "Job fabric-migrate"])
  for (const { owner, spec } of pods) {
    assert.is(spec.securityContext?.runAsNonRoot, true, owner)
    assert.ok(spec.securityContext?.runAsUser > 0, owner)
    assert.is(spec.securityContext?.seccompProfile?.type, "RuntimeDefault", owner)
    assert.is(spec.hostNetwork ?? false, false, owner)
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      const where = `${owner} container ${c.name}`
      assert.is(c.securityContext?.runAsNonRoot, true, where)
      assert.is(c.securityContext?.allowPrivilegeEscalation, false, where)
      assert.is(c.securityContext?.readOnlyRootFilesystem, true, where)
      assert.is(c.securityContext?.privileged ?? false, false, where)
      assert.equal(c.securityContext?.capabilities, { drop: ["ALL"] }, where)
      for (const kind of ["requests", "limits"]) for (const r of ["cpu", "memory"]) assert.ok(c.resources?.[kind]?.[r], `${where}: resources.${kind}.${r}`)
      assert.is(c.image, "fabric:0.1.0", where)
      assert.is(c.command, undefined, `${where}: the image's ENTRYPOINT runs fabric; set only args`)
    }
  }
  // Only the daemon holds a Kubernetes token.
  for (const { owner, spec } of pods) assert.is(spec.automountServiceAccountToken, owner === "Deployment fabric-daemon", owner)
})

test("terminationGracePeriodSeconds (30) covers Fabric's drain (FABRIC_SHUTDOWN_DRAIN_SECONDS, 20) plus its 10 s for the rest of the stop", () => {
  const config = find(renderOverlay("base"), "ConfigMap", "fabric-config")
  const drainSeconds = Number(config.data.FABRIC_SHUTDOWN_DRAIN_SECONDS)
  assert.is(drainSeconds * 1000, parseConfig({}).shutdownDrainMs, "the manifests state Fabric's default")
  for (const { owner, spec } of podSpecs(all())) assert.is(spec.terminationGracePeriodSeconds, drainSeconds + 10, owner)
})

test("fabric rpc: 2 replicas, /readyz readiness, /healthz liveness, a PodDisruptionBudget and a Service that select its pods", () => {
  const hub = renderOverlay("hub")
  const rpc = find(hub, "Deployment", "fabric-rpc")
  const pod = rpc.spec.template
  const [c] = pod.spec.containers
  assert.is(rpc.spec.replicas, 2)
  assert.equal(c.args, ["rpc"])
  assert.is(rpc.spec.strategy.rollingUpdate.maxUnavailable, 0)
  assert.equal(c.readinessProbe.httpGet, { path: "/readyz", port: "http" })
  assert.equal(c.livenessProbe.httpGet, { path: "/healthz", port: "http" })
  assert.equal(c.startupProbe.httpGet, { path: "/healthz", port: "http" })
  const http = c.ports.find((p: { name: string }) => p.name === "http")
  assert.is(String(http.containerPort), c.env.find((e: { name: string }) => e.name === "PORT").value)
  const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => pod.metadata.labels[k] === v)
  assert.ok(selects(rpc.spec.selector.matchLabels))
  const pdb = find(hub, "PodDisruptionBudget", "fabric-rpc")
  assert.ok(selects(pdb.spec.selector.matchLabels))
  assert.ok(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < rpc.spec.replicas, "a drain can evict one replica at a time")
  const service = find(hub, "Service", "fabric-rpc")
  assert.ok(selects(service.spec.selector))
  assert.equal(service.spec.ports.map((p: { targetPort: string }) => p.targetPort), ["http"])
  // The migration Job runs `fabric migrate` on the same database.
  const job = find(renderOverlay("migrate"), "Job", "fabric-migrate")
  assert.equal(job.spec.template.spec.containers[0].args, ["migrate"])
  assert.is(job.spec.template.spec.restartPolicy, "Never")
})

test("settings: every env name and ConfigMap key is one Fabric reads; credentials only as references to the documented Secrets", () => {
  const settings = new Set<string>()
  parseConfig(new Proxy({}, { get: (_, name) => { if (typeof name === "string") settings.add(name); return undefined } }))
  const objects = all()
  assert.is(objects.filter((o) => o.kind === "Secret").length, 0, "no Secret values in the manifests")
  const configMaps = new Map(objects.filter((o) => o.kind === "ConfigMap").map((o) => [o.metadata.name, o]))
  const readme = read("README.md")
  for (const name of Object.keys(documentedSecrets)) assert.ok(readme.includes(`create secret generic ${name}`), `README.md shows how to create ${name}`)
  for (const { owner, spec } of podSpecs(objects)) {
    for (const c of spec.containers) {
      const expanded = new Set([...(c.args ?? []).join(" ").matchAll(/\$\((\w+)\)/g)].map((m) => m[1]!))
      for (const from of c.envFrom ?? []) {
        assert.ok(from.configMapRef, `${owner}: envFrom only from ConfigMaps`)
        for (const key of Object.keys(configMaps.get(from.configMapRef.name)!.data)) assert.ok(settings.has(key), `${owner}: ${key} (from ${from.configMapRef.name}) is not a setting Fabric reads`)
      }
      for (const e of c.env ?? []) {
        assert.ok(settings.has(e.name) || expanded.has(e.name), `${owner}: ${e.name} is neither a Fabric setting nor used in args`)
        if (e.valueFrom?.secretKeyRef) {
          const { name, key } = e.valueFrom.secretKeyRef
          assert.ok(documentedSecrets[name]?.includes(key), `${owner}: ${e.name} refers to secret ${name} key ${key}, not a documented one`)
        } else if (e.valueFrom?.configMapKeyRef) {
          const { name, key } = e.valueFrom.configMapKeyRef
          assert.ok(configMaps.get(name)?.data?.[key] !== undefined, `${owner}: ${e.name} refers to ${name}/${key}, not in the manifests`)
        } else if (e.name.endsWith("_FILE")) {
          // a file setting names a documented key of a Secret mounted in the pod: the secret stays out of the environment
          const mount = (c.volumeMounts ?? []).find((m: { mountPath: string }) => e.value.startsWith(`${m.mountPath}/`))
          const volume = (spec.volumes ?? []).find((v: { name: string }) => v.name === mount?.name)
          assert.ok(volume?.secret && mount.readOnly === true, `${owner}: ${e.name}=${e.value} is not in a Secret mounted read-only`)
          assert.ok(documentedSecrets[volume.secret.secretName]?.includes(e.value.slice(mount.mountPath.length + 1)), `${owner}: ${e.name}=${e.value} is not a documented key of ${volume.secret.secretName}`)
        } else {
          assert.not.ok(/TOKEN|PASSWORD|DATABASE_URL|BROKERS|USERNAME/.test(e.name), `${owner}: ${e.name} must come from a Secret`)
        }
      }
    }
  }
  // The member cluster never gets the database or the operator token.
  const daemonEnv = find(renderOverlay("member"), "Deployment", "fabric-daemon").spec.template.spec.containers[0].env.map((e: { name: string }) => e.name)
  assert.equal(daemonEnv.sort(), ["FABRIC_CLUSTER_ID", "FABRIC_KAFKA_SASL_PASSWORD_FILE", "FABRIC_KAFKA_SASL_USERNAME", "KAFKA_BROKERS"])
})

test("Kafka credentials: TLS and SCRAM for the whole fleet; each process its own cluster's user, the password from the mounted Secret", () => {
  const config = find(renderOverlay("base"), "ConfigMap", "fabric-config").data
  assert.is(config.FABRIC_KAFKA_TLS, "1")
  assert.is(config.FABRIC_KAFKA_SASL_MECHANISM, "scram-sha-256")
  for (const [overlay, name] of [["hub", "fabric-rpc"], ["member", "fabric-daemon"]] as const) {
    const { spec } = find(renderOverlay(overlay), "Deployment", name).spec.template
    const env = Object.fromEntries(spec.containers[0].env.map((e: { name: string }) => [e.name, e]))
    assert.equal(env.FABRIC_KAFKA_SASL_USERNAME.valueFrom.secretKeyRef, { name: "fabric-kafka", key: "username" }, name)
    assert.is(env.FABRIC_KAFKA_SASL_PASSWORD, undefined, `${name}: the password only as a file`)
    assert.is(env.FABRIC_KAFKA_SASL_PASSWORD_FILE.value, "/etc/fabric/kafka/password", name)
    assert.equal(spec.volumes.find((v: { name: string }) => v.name === "kafka").secret.secretName, "fabric-kafka", name)
    // 0440 with the pod's fsGroup: readable by uid 1000 and nobody else
    assert.is(spec.volumes.find((v: { name: string }) => v.name === "kafka").secret.defaultMode, 0o440, name)
    assert.is(spec.securityContext.fsGroup, spec.securityContext.runAsGroup, name)
  }
  // The migration Job does not talk to Kafka.
  assert.not.ok(JSON.stringify(find(renderOverlay("migrate"), "Job", "fabric-migrate")).includes("fabric-kafka"))
})

test("README.md's kafka-acls example is what src/processes/kafka-acls.ts grants (no installation prefix, member cluster eu-1)", () => {
  const readme = read("README.md")
  for (const line of [...kafkaAclsCommands("fabric-rpc", rpcGrants("")), ...kafkaAclsCommands("fabric-daemon-eu-1", daemonGrants("", "eu-1"))]) {
    assert.ok(readme.includes(line), `README.md lacks: ${line}`)
  }
})

test("fabric daemon: the real flags (--in-cluster, --cluster from the member ConfigMap, --metrics-port); the placeholder id is refused", () => {
  const member = renderOverlay("member")
  const daemon = find(member, "Deployment", "fabric-daemon")
  const [c] = daemon.spec.template.spec.containers
  const { flags, positionals } = parseArgs(c.args)
  assert.equal(positionals, ["daemon"])
  assert.is(flags.get("in-cluster"), true)
  assert.is(flags.get("cluster"), "$(FABRIC_CLUSTER_ID)")
  const metrics = c.ports.find((p: { name: string }) => p.name === "metrics")
  assert.is(flags.get("metrics-port"), String(metrics.containerPort))
  assert.is(c.livenessProbe.httpGet.port, "metrics")
  assert.is(daemon.spec.replicas, 1)
  assert.is(daemon.spec.strategy.type, "Recreate")
  const placeholder = find(member, "ConfigMap", "fabric-member").data.FABRIC_CLUSTER_ID
  const run = spawnSync(process.execPath, ["src/bin/fabric.ts", ...c.args.map((a: string) => a.replace("$(FABRIC_CLUSTER_ID)", placeholder))], {
    cwd: repoRoot, encoding: "utf8", env: { ...process.env, KAFKA_BROKERS: "127.0.0.1:1" }, timeout: 30_000,
  })
  assert.is(run.status, 2, run.stderr)
  assert.match(run.stderr, /is not a valid cluster id/)
})

// ---- Containerfile ----------------------------------------------------------------------------

const containerfile = () => read("Containerfile")

/** Files `node src/bin/fabric.ts` loads, following relative imports; and the packages it imports. */
const runtimeGraph = () => {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (files.has(file)) return
    files.add(file)
    const source = readFileSync(file, "utf8")
    const specifiers = [
      ...[...source.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+["']([^"']+)["']/gm)].map((m) => m[1]!),
      ...[...source.matchAll(/^\s*import\s+["']([^"']+)["']/gm)].map((m) => m[1]!),
      ...[...source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!),
    ]
    for (const s of specifiers) {
      if (s.startsWith(".")) {
        const target = resolve(dirname(file), s)
        assert.ok(existsSync(target), `${relative(repoRoot, file)} imports ${s}, which does not exist`)
        if (target.endsWith(".ts")) visit(target)
      } else if (!s.startsWith("node:") && !builtinModules.includes(s)) {
        packages.add(s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]!)
      }
    }
  }
  visit(join(repoRoot, "src/bin/fabric.ts"))
  return { files: [...files].map((f) => relative(repoRoot, f)), packages }
}

/**
 * .containerignore as Docker reads it: each pattern (Docker's syntax, as used there) to a regex;
 * a path is left out when the LAST pattern matching it is not a `!` exception.
 */
const ignoreRule = (text: string) => {
  const patterns = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")).map((line) => {
    const p = line.startsWith("!") ? line.slice(1) : line
    return {
      exception: line.startsWith("!"),
      regex: new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*\//g, "\u0000").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]").replace(/\u0000/g, "(?:.*/)?")}(?:/.*)?$`),
    }
  })
  return (path: string) => patterns.findLast((m) => m.regex.test(path))?.exception === false
}

test("Containerfile: Node 24 (the devDependency's version), production dependencies only, non-root, ENTRYPOINT node src/bin/fabric.ts", () => {
  const file = containerfile()
  const pkg = JSON.parse(read("package.json"))
  assert.is(/^ARG NODE_VERSION=(\S+)$/m.exec(file)?.[1], pkg.devDependencies.node)
  assert.ok(pkg.devDependencies.node.startsWith("24."))
  const froms = [...file.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/gm)]
  assert.ok(froms.length >= 2, "multi-stage")
  for (const [, image] of froms) assert.ok(image!.startsWith("docker.io/library/node:${NODE_VERSION}"), `${image}: the official node image`)
  assert.match(file, /^RUN npm ci --omit=dev\b/m)
  assert.match(file, /^ENTRYPOINT \["node", "src\/bin\/fabric\.ts"\]$/m)
  const user = /^USER\s+(\S+)$/gm.exec(file)?.[1]
  assert.ok(user && /^[1-9]\d*:[1-9]\d*$/.test(user), `USER ${user}: a numeric non-root uid:gid`)
  const uid = Number(user!.split(":")[0])
  for (const { owner, spec } of podSpecs(all())) assert.is(spec.securityContext.runAsUser, uid, `${owner} runs as the image's user`)
  // --ignore-scripts is safe: no production package has an install script.
  const lock = JSON.parse(read("package-lock.json"))
  const scripted = Object.entries(lock.packages as Record<string, { dev?: boolean; hasInstallScript?: boolean }>).filter(([, p]) => p.hasInstallScript && !p.dev).map(([k]) => k)
  assert.equal(scripted, [])
})

test("Containerfile: every path it copies exists and is in the build context; the image holds every file fabric imports, and no devDependency", () => {
  const file = containerfile()
  const isIgnored = ignoreRule(read(".containerignore"))
  assert.is(read(".dockerignore"), read(".containerignore"), ".dockerignore and .containerignore are the same")
  const copied: string[] = []
  for (const m of file.matchAll(/^COPY\s+(.+)$/gm)) {
    const parts = m[1]!.split(/\s+/)
    if (parts[0]!.startsWith("--from=")) continue
    const sources = parts.slice(0, -1)
    for (const s of sources) {
      assert.ok(existsSync(join(repoRoot, s)), `COPY ${s}: no such path`)
      assert.not.ok(isIgnored(s), `COPY ${s}: excluded by .containerignore`)
      copied.push(s.replace(/\/$/, ""))
    }
  }
  const { files, packages } = runtimeGraph()
  assert.ok(files.length > 50, `${files.length} files`)
  for (const f of files) {
    assert.ok(copied.some((c) => f === c || f.startsWith(`${c}/`)), `${f} is imported at run time but not copied into the image`)
    assert.not.ok(isIgnored(f), `${f} is imported at run time but excluded by .containerignore`)
  }
  // Files read at run time next to the sources (the debug UI's assets, the kind catalogue).
  for (const asset of readdirSync(join(repoRoot, "rpc/debug-ui"))) assert.not.ok(isIgnored(`rpc/debug-ui/${asset}`), asset)
  for (const crd of readdirSync(join(repoRoot, "deploy/crds"))) {
    assert.not.ok(isIgnored(`deploy/crds/${crd}`), crd)
    assert.ok(copied.includes("deploy/crds"), "the kind catalogue is copied into the image")
  }
  assert.ok(isIgnored("deploy/kubernetes/hub/rpc-deployment.yaml"), "the rest of deploy/ stays out")
  const pkg = JSON.parse(read("package.json"))
  for (const p of packages) {
    assert.ok(pkg.dependencies[p], `runtime code imports ${p}, which is not a production dependency${pkg.devDependencies[p] ? " (a devDependency: npm ci --omit=dev leaves it out)" : ""}`)
  }
  assert.ok(packages.has("@kubernetes/client-node") && packages.has("kafkajs") && packages.has("postgres"))
  assert.ok(statSync(join(repoRoot, "src/bin/fabric.ts")).isFile())
})

test.run()
