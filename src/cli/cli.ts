// The `fabric` CLI, built on the typed client (rpc/client.ts). Tables for people, --json for
// scripts; errors say what to do next.
import { existsSync, readFileSync } from "node:fs"
import type { ClientResponse } from "hono/client"
import { expectOk, fabricClient, FabricApiError, type FabricClient, type SuccessBody } from "../../rpc/client.ts"
import { parseArgs } from "./args.ts"
import { exportMachineCommand } from "./export-machine.ts"
import { clusterProgress, projectDetails, resourceDetails, table } from "./render.ts"
import { watchProject, watchResource } from "./watch.ts"

const usage = `usage: fabric <command>
  dev                                   run Fabric (API, management, one daemon per cluster)
  account create --name N --email E     create an account (prints its API key once)
  account get <accountId>
  project create --account A --name N
  project get <projectId>
  project list --account A [--limit N] [--cursor C]
  project delete <projectId>
  project watch <projectId> [--timeout SECONDS]   follow per-cluster progress until Ready
  resource create <projectId> --kind K --spec JSON [--name N]   a resource of a catalogued kind (see kinds)
  resource get <projectId> <resourceId>
  resource list <projectId> [--limit N] [--cursor C]
  resource patch <projectId> <resourceId> --spec JSON   a JSON merge patch of the spec (null removes a field)
  resource delete <projectId> <resourceId>
  resource watch <projectId> <resourceId> [--timeout SECONDS]   follow per-cluster progress until Ready
  kinds                                 the catalogue: each kind and its spec's fields
  clusters                              list member clusters
  cluster remove <clusterId> [--force]  remove a cluster from the fleet (the last Active one only with --force)
  debug export <account|project> [--format mermaid|stately]   print a state machine (no server needed)
options: --url (FABRIC_URL, default http://127.0.0.1:8080)  --token (FABRIC_TOKEN)  --json`

class CliError extends Error {}

/** What the CLI says about an error answer: the code, the message, each issue, and what to do. */
const explain = (e: FabricApiError): string => {
  const hint = e.status === 401 ? " (set FABRIC_TOKEN or --token)" : e.status === 503 ? " (Fabric's database or broker is down; try again)" : ""
  const issues = e.body?.error.issues?.map((i) => `\n  ${i.path}: ${i.message}`).join("") ?? ""
  return `${e.message}${hint}${issues}`
}

const required = (flags: Map<string, string | true>, name: string): string => {
  const value = flags.get(name)
  if (typeof value !== "string") throw new CliError(`--${name} is required\n\n${usage}`)
  return value
}

/** A positional argument a command needs (a project or resource id). */
const argument = (value: string | undefined, name: string): string => {
  if (value === undefined) throw new CliError(`<${name}> is required\n\n${usage}`)
  return value
}

/** --spec as a JSON object: the spec, or a merge patch of it. */
const specFlag = (flags: Map<string, string | true>): Record<string, unknown> => {
  const text = required(flags, "spec")
  let value: unknown
  try { value = JSON.parse(text) } catch (e) { throw new CliError(`--spec is not JSON: ${(e as Error).message}`) }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new CliError("--spec must be a JSON object, e.g. '{\"network\":\"preprod\"}'")
  return value as Record<string, unknown>
}

/** --limit and --cursor of a list command. */
const pageQuery = (flags: Map<string, string | true>) => {
  const query: { limit?: string; cursor?: string } = {}
  if (typeof flags.get("limit") === "string") query.limit = flags.get("limit") as string
  if (typeof flags.get("cursor") === "string") query.cursor = flags.get("cursor") as string
  return query
}

/** Where a local Fabric is, for calls without --url and --token (the entrypoint reads them from the configuration). */
export interface LocalFabric {
  readonly port: number
  /** The embedded default's operator token file (src/processes/operator-token.ts). */
  readonly operatorTokenFile: string
}

export const runCli = async (argv: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>>, local: LocalFabric): Promise<number> => {
  const { flags, positionals } = parseArgs(argv)
  const [noun, verb, target, second] = positionals
  const json = flags.has("json")
  const url = (flags.get("url") as string | undefined) ?? env.FABRIC_URL ?? `http://127.0.0.1:${local.port}`
  const tokenFile = local.operatorTokenFile
  const token = (flags.get("token") as string | undefined) ?? env.FABRIC_TOKEN ?? env.FABRIC_ADMIN_TOKEN ??
    (existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : undefined)
  const print = (value: unknown, human: () => string) => console.log(json ? JSON.stringify(value, null, 2) : human())
  try {
    if (noun === undefined || noun === "help" || flags.has("help")) { console.log(usage); return 0 }
    if (noun === "debug" && verb === "export") {
      const exported = exportMachineCommand(target, flags.get("format"))
      if ("error" in exported) throw new CliError(`${exported.error}\n\n${usage}`)
      process.stdout.write(exported.text)
      return 0
    }
    if (token === undefined) throw new CliError("no token: set FABRIC_TOKEN (the operator token printed by `fabric dev`, or an account API key)")
    const client: FabricClient = fabricClient(url, token)
    const call = async <R extends ClientResponse<unknown, number, "json">>(request: Promise<R>): Promise<SuccessBody<R>> => {
      try {
        return await expectOk(request)
      } catch (e) {
        if (e instanceof FabricApiError) throw new CliError(explain(e))
        throw new CliError(`cannot reach Fabric at ${url}: ${(e as Error).message} (is \`npm start\` running? set FABRIC_URL)`)
      }
    }
    switch (`${noun} ${verb ?? ""}`.trim()) {
      case "account create": {
        const r = await call(client.v1.accounts.$post({ json: { name: required(flags, "name"), email: required(flags, "email") } }))
        print(r, () => [
          `account ${r.account.id} (${r.account.name}, ${r.account.email})`,
          `api key ${r.apiKey ?? "(not shown again)"}   <- shown once; keep it safe`,
          `default project ${r.project.id}, namespace ${r.project.namespace}: ${r.project.phase}`,
          `follow it: fabric project watch ${r.project.id}`,
        ].join("\n"))
        return 0
      }
      case "account get": {
        const r = await call(client.v1.accounts[":accountId"].$get({ param: { accountId: target ?? required(flags, "account") } }))
        print(r, () => table(["ID", "NAME", "EMAIL", "CREATED"], [[r.account.id, r.account.name, r.account.email, r.account.createdAt]]))
        return 0
      }
      case "project create": {
        const r = await call(client.v1.accounts[":accountId"].projects.$post({
          param: { accountId: required(flags, "account") }, json: { name: required(flags, "name") },
        }))
        print(r, () => `${projectDetails(r.project)}\nfollow it: fabric project watch ${r.project.id}`)
        return 0
      }
      case "project get": {
        const r = await call(client.v1.projects[":projectId"].$get({ param: { projectId: target ?? required(flags, "project") } }))
        print(r, () => projectDetails(r.project))
        return 0
      }
      case "project list": {
        const r = await call(client.v1.accounts[":accountId"].projects.$get({
          param: { accountId: required(flags, "account") }, query: pageQuery(flags),
        }))
        print(r, () => table(["ID", "NAME", "NAMESPACE", "PHASE", "CLUSTERS"], r.projects.map((p) =>
          [p.id, p.name, p.namespace, p.phase, Object.entries(p.clusters).map(([id, c]) => `${id}=${c.phase}`).join(" ")]))
          + (r.nextCursor ? `\nmore: --cursor ${r.nextCursor}` : ""))
        return 0
      }
      case "project delete": {
        const r = await call(client.v1.projects[":projectId"].$delete({ param: { projectId: target ?? required(flags, "project") } }))
        print(r, () => `${clusterProgress(r.project)}\nfollow it: fabric project watch ${r.project.id}`)
        return 0
      }
      case "project watch": {
        const projectId = target ?? required(flags, "project")
        const timeout = Number(flags.get("timeout") ?? 300)
        return await watchProject(url, token, projectId, { timeoutSeconds: timeout, json, fetch })
      }
      case "resource create": {
        const json = { kind: required(flags, "kind"), spec: specFlag(flags), ...(typeof flags.get("name") === "string" ? { name: flags.get("name") as string } : {}) }
        const r = await call(client.v1.projects[":projectId"].resources.$post({ param: { projectId: argument(target, "projectId") }, json }))
        print(r, () => `${resourceDetails(r.resource)}\nfollow it: fabric resource watch ${r.resource.projectId} ${r.resource.id}`)
        return 0
      }
      case "resource get": {
        const r = await call(client.v1.projects[":projectId"].resources[":resourceId"].$get({
          param: { projectId: argument(target, "projectId"), resourceId: argument(second, "resourceId") },
        }))
        print(r, () => resourceDetails(r.resource))
        return 0
      }
      case "resource list": {
        const r = await call(client.v1.projects[":projectId"].resources.$get({ param: { projectId: argument(target, "projectId") }, query: pageQuery(flags) }))
        print(r, () => table(["ID", "KIND", "NAME", "PHASE", "GENERATION", "CLUSTERS"], r.resources.map((x) =>
          [x.id, x.kind, x.name, x.phase, String(x.generation), Object.entries(x.clusters).map(([id, c]) => `${id}=${c.phase}`).join(" ")]))
          + (r.nextCursor ? `\nmore: --cursor ${r.nextCursor}` : ""))
        return 0
      }
      case "resource patch": {
        const r = await call(client.v1.projects[":projectId"].resources[":resourceId"].$patch({
          param: { projectId: argument(target, "projectId"), resourceId: argument(second, "resourceId") }, json: { spec: specFlag(flags) },
        }, { headers: { "content-type": "application/merge-patch+json" } }))
        print(r, () => `${resourceDetails(r.resource)}\nfollow it: fabric resource watch ${r.resource.projectId} ${r.resource.id}`)
        return 0
      }
      case "resource delete": {
        const r = await call(client.v1.projects[":projectId"].resources[":resourceId"].$delete({
          param: { projectId: argument(target, "projectId"), resourceId: argument(second, "resourceId") },
        }))
        print(r, () => `${clusterProgress(r.resource)}\nfollow it: fabric resource watch ${r.resource.projectId} ${r.resource.id}`)
        return 0
      }
      case "resource watch": {
        const timeout = Number(flags.get("timeout") ?? 300)
        return await watchResource(url, token, argument(target, "projectId"), argument(second, "resourceId"), { timeoutSeconds: timeout, json, fetch })
      }
      case "kinds": {
        const r = await call(client.v1.kinds.$get())
        print(r, () => table(["KIND", "API VERSION", "REQUIRED", "FIELDS", "SERVED BY"], r.kinds.map((k) => {
          const spec = (k.schema.properties as { spec?: { required?: string[]; properties?: Record<string, unknown> } } | undefined)?.spec
          return [k.kind, k.apiVersion, (spec?.required ?? []).join(","), Object.keys(spec?.properties ?? {}).join(","), k.clusters.join(",") || "-"]
        })))
        return 0
      }
      case "clusters": {
        const r = await call(client.v1.clusters.$get())
        print(r, () => table(["CLUSTER", "PHASE", "LAST SEEN", "KINDS"], r.clusters.map((c) => [c.id, c.phase, c.lastSeenAt ?? "-", c.kinds?.join(",") ?? "-"])))
        return 0
      }
      case "cluster remove": {
        const query = flags.has("force") ? { force: "true" as const } : {}
        const r = await call(client.v1.clusters[":clusterId"].$delete({ param: { clusterId: target ?? required(flags, "cluster") }, query }))
        print(r, () => `cluster ${r.cluster.id}: ${r.cluster.phase} (projects stop waiting for it; its namespaces are left alone)`)
        return 0
      }
      default:
        throw new CliError(`unknown command "${positionals.join(" ")}"\n\n${usage}`)
    }
  } catch (e) {
    console.error(`fabric: ${e instanceof CliError ? e.message : (e as Error).stack ?? String(e)}`)
    return 1
  }
}
