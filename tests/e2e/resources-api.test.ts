// A project's resources through the HTTP API (the typed client) on the embedded layers: create,
// read, list, merge-patch and delete; a bad spec and a bad patch refused with the JSON path of
// each field and nothing written; the resource quota, names, Idempotency-Key, another account's
// key; and a project's deletion deleting its resources. The simulated clusters here never answer
// (an hour of latency per call): what is checked is what the API itself decides, not the clusters'
// progress (tests/e2e/resources.test.ts follows that).
import { suite } from "uvu"
import * as assert from "uvu/assert"
import type { Resource } from "../../rpc/client.ts"
import { startFabric, type TestFabric } from "../support/embedded-fabric.ts"

interface Ctx { fabric: TestFabric; accountId: string; projectId: string; apiKey: string; other: { projectId: string; apiKey: string } }
const api = suite<Ctx>("resources through the API")

api.before(async (ctx) => {
  const silent = { latencyMs: 3_600_000 }
  ctx.fabric = await startFabric({ env: { FABRIC_RESOURCE_QUOTA: "4" }, clusters: { "sim-a": silent, "sim-b": silent, "sim-c": silent } })
  const mine = await ctx.fabric.request("POST", "/v1/accounts", { body: { name: "Ports", email: "ports@example.test" } })
  const theirs = await ctx.fabric.request("POST", "/v1/accounts", { body: { name: "Others", email: "others@example.test" } })
  Object.assign(ctx, { accountId: mine.json.account.id, projectId: mine.json.project.id, apiKey: mine.json.apiKey })
  ctx.other = { projectId: theirs.json.project.id, apiKey: theirs.json.apiKey }
})
api.after(async (ctx) => ctx.fabric.stop())

const kupo = { network: "mainnet", pruneUtxo: true }

/** Every row a write could add or change, summed per table (the legacy schema's and Fabric's own). */
const rows = (fabric: TestFabric) =>
  fabric.sql(`select (select count(*) from demeter.resources)::int as legacy, (select count(*) from demeter.audit_log)::int as audit,
    (select count(*) from fabric.resources)::int as resources, (select count(*) from fabric.resource_clusters)::int as statuses,
    (select count(*) from fabric.outbox)::int as outbox, (select count(*) from fabric.actor_snapshots)::int as actors,
    (select count(*) from fabric.actor_events)::int as events, (select count(*) from fabric.idempotency_keys)::int as keys,
    (select coalesce(sum(generation), 0) from fabric.resources)::int as generations,
    (select string_agg(spec::text, ',' order by id) from demeter.resources) as specs`).then((r) => ({ ...r[0] }))

const resourcesOf = (ctx: Ctx, token?: string) => ctx.fabric.clientFor(token).v1.projects[":projectId"].resources
const create = (ctx: Ctx, json: { kind: string; name?: string; spec: Record<string, unknown> }, init: { token?: string; projectId?: string; headers?: Record<string, string> } = {}) =>
  resourcesOf(ctx, init.token).$post({ param: { projectId: init.projectId ?? ctx.projectId }, json }, init.headers ? { headers: init.headers } : undefined)
const one = (ctx: Ctx, resourceId: string, token?: string) => resourcesOf(ctx, token)[":resourceId"]

const created = async (ctx: Ctx, json: { kind: string; name?: string; spec: Record<string, unknown> }): Promise<Resource> => {
  const r = await create(ctx, json)
  assert.is(r.status, 201, await r.clone().text())
  return ((await r.json()) as { resource: Resource }).resource
}

const issuesOf = async (r: Response) => {
  const body = (await r.json()) as { error: { code: string; issues?: Array<{ path: string; message: string }> } }
  return { code: body.error.code, issues: (body.error.issues ?? []).map((i) => `${i.path}: ${i.message}`) }
}

api("created: 201 with the spec, generation 1, a default name, Pending in every member cluster; legacy row, audit row and desired state written", async (ctx) => {
  const resource = await created(ctx, { kind: "KupoPort", spec: kupo })
  assert.match(resource.id, /^res_[a-z2-7]{20}$/)
  assert.match(resource.name, /^kupoport-[a-z0-9]{6}$/)
  assert.equal(resource.spec, kupo)
  assert.is(resource.phase, "Provisioning")
  assert.is(resource.generation, 1)
  assert.equal(Object.entries(resource.clusters).map(([id, c]) => [id, c.phase]), [["sim-a", "Pending"], ["sim-b", "Pending"], ["sim-c", "Pending"]])
  const [legacy] = await ctx.fabric.sql("select account_id, project_id, kind, name, spec, status from demeter.resources where id = $1", resource.id)
  assert.equal(legacy, { account_id: ctx.accountId, project_id: ctx.projectId, kind: "KupoPort", name: resource.name, spec: kupo, status: "active" })
  assert.is((await ctx.fabric.sql("select count(*)::int as n from demeter.audit_log where action = 'resource.created' and entity_id = $1", resource.id))[0].n, 1)
  const [desired] = await ctx.fabric.sql("select value from fabric.outbox where topic = 'fabric.resources' and key = $1", resource.id)
  assert.equal(JSON.parse(desired.value), {
    resourceId: resource.id, projectId: ctx.projectId, accountId: ctx.accountId, namespace: (await ctx.fabric.sql("select namespace from fabric.projects where id = $1", ctx.projectId))[0].namespace,
    kind: "KupoPort", name: resource.name, generation: 1, spec: kupo, deleted: false,
  })
  const read = await one(ctx, resource.id).$get({ param: { projectId: ctx.projectId, resourceId: resource.id } })
  assert.equal(((await read.json()) as { resource: Resource }).resource, resource)
})

api("a bad spec: 400 naming each field by its JSON path; nothing written", async (ctx) => {
  const before = await rows(ctx.fabric)
  const cases: Array<[{ kind: string; spec: Record<string, unknown> }, string[]]> = [
    [{ kind: "KupoPort", spec: { network: "testnet", throughputTier: 7, colour: "red" } }, [
      "body.spec.pruneUtxo: is required",
      'body.spec.network: must be one of "mainnet", "preprod", "preview"',
      "body.spec.throughputTier: must be at most 3",
      "body.spec.colour: is not a field here (the fields are network, pruneUtxo, throughputTier, matchPatterns)",
    ]],
    [{ kind: "CardanoNodePort", spec: { network: "preview", version: "latest", throughputTier: 1.5 } }, [
      "body.spec.version: must match ^[0-9]+\\.[0-9]+(\\.[0-9]+)?$", "body.spec.throughputTier: must be an integer, not a number",
    ]],
    [{ kind: "KupoPort", spec: { ...kupo, matchPatterns: ["addr1*", ""] } }, ["body.spec.matchPatterns.1: must be at least 1 character"]],
    [{ kind: "OgmiosPort", spec: {} }, ["body.kind: must be a kind of the catalogue: CardanoNodePort, KupoPort"]],
  ]
  for (const [json, expected] of cases) {
    const r = await create(ctx, json)
    assert.is(r.status, 400)
    assert.equal(await issuesOf(r), { code: "invalid_request", issues: expected })
  }
  // The body's shape is the boundary's (rpc/http/schemas.ts): a spec that is not an object, a bad name.
  for (const [json, path] of [[{ kind: "KupoPort", spec: [1] }, "body.spec"], [{ kind: "KupoPort", name: "Not_A_Label", spec: kupo }, "body.name"]] as const) {
    const r = await resourcesOf(ctx).$post({ param: { projectId: ctx.projectId }, json: json as never })
    assert.is(r.status, 400)
    assert.ok((await issuesOf(r)).issues.some((i) => i.startsWith(`${path}:`)), path)
  }
  assert.equal(await rows(ctx.fabric), before)
})

api("a merge patch: members merge in, null removes one, a new generation; the same spec again is no new generation", async (ctx) => {
  const resource = await created(ctx, { kind: "KupoPort", spec: { ...kupo, throughputTier: 1, matchPatterns: ["addr1*"] } })
  const patch = (json: { spec: Record<string, unknown> }, headers?: Record<string, string>) =>
    one(ctx, resource.id).$patch({ param: { projectId: ctx.projectId, resourceId: resource.id }, json }, headers ? { headers } : undefined)
  const r = await patch({ spec: { throughputTier: 3, matchPatterns: null } }, { "content-type": "application/merge-patch+json" })
  assert.is(r.status, 200)
  const patched = ((await r.json()) as { resource: Resource }).resource
  assert.equal(patched.spec, { ...kupo, throughputTier: 3 })
  assert.is(patched.generation, 2)
  assert.equal(Object.values(patched.clusters).map((c) => c.phase), ["Pending", "Pending", "Pending"])
  const [legacy] = await ctx.fabric.sql("select spec from demeter.resources where id = $1", resource.id)
  assert.equal(legacy.spec, { ...kupo, throughputTier: 3 })
  const again = ((await (await patch({ spec: { throughputTier: 3 } })).json()) as { resource: Resource }).resource
  assert.is(again.generation, 2)
  const desired = await ctx.fabric.sql("select value from fabric.outbox where topic = 'fabric.resources' and key = $1 order by id", resource.id)
  assert.equal(desired.map((d) => JSON.parse(d.value).generation), [1, 2])
})

api("a bad patch: 400 before the merge (a value not valid where it goes) and after it (a required field removed); nothing written", async (ctx) => {
  const resource = await created(ctx, { kind: "CardanoNodePort", spec: { network: "preprod", version: "10.1.4" } })
  const before = await rows(ctx.fabric)
  const cases: Array<[Record<string, unknown>, string[]]> = [
    [{ throughputTier: "high", colour: null }, ["body.spec.throughputTier: must be an integer, not a string", "body.spec.colour: is not a field here (the fields are network, version, throughputTier)"]],
    [{ network: null }, ["body.spec.network: after the merge: is required"]],
    [{ version: "x" }, ["body.spec.version: must match ^[0-9]+\\.[0-9]+(\\.[0-9]+)?$"]],
  ]
  for (const [spec, expected] of cases) {
    const r = await one(ctx, resource.id).$patch({ param: { projectId: ctx.projectId, resourceId: resource.id }, json: { spec } })
    assert.is(r.status, 400)
    assert.equal(await issuesOf(r), { code: "invalid_request", issues: expected })
  }
  assert.equal(await rows(ctx.fabric), before)
})

api("a list is paged with a cursor signed for its project; another account's key gets 404 for the project's resources", async (ctx) => {
  const page1 = await resourcesOf(ctx).$get({ param: { projectId: ctx.projectId }, query: { limit: "2" } })
  const first = (await page1.json()) as { resources: Resource[]; nextCursor: string | null }
  assert.is(first.resources.length, 2)
  assert.ok(first.nextCursor)
  const page2 = (await (await resourcesOf(ctx).$get({ param: { projectId: ctx.projectId }, query: { limit: "2", cursor: first.nextCursor! } })).json()) as { resources: Resource[]; nextCursor: string | null }
  assert.is(page2.resources.length, 1)
  assert.is(page2.nextCursor, null)
  assert.equal(new Set([...first.resources, ...page2.resources].map((r) => r.id)).size, 3)
  const elsewhere = await resourcesOf(ctx).$get({ param: { projectId: ctx.other.projectId }, query: { cursor: first.nextCursor! } })
  assert.is(elsewhere.status, 400)
  const theirs = await resourcesOf(ctx, ctx.other.apiKey).$get({ param: { projectId: ctx.projectId }, query: {} })
  assert.is(theirs.status, 404)
  const resource = first.resources[0]!
  for (const call of [
    one(ctx, resource.id, ctx.other.apiKey).$get({ param: { projectId: ctx.projectId, resourceId: resource.id } }),
    one(ctx, resource.id, ctx.other.apiKey).$delete({ param: { projectId: ctx.projectId, resourceId: resource.id } }),
    // The right resource id under another project is not found either.
    one(ctx, resource.id).$get({ param: { projectId: ctx.other.projectId, resourceId: resource.id } }),
  ]) assert.is((await call).status, 404)
  const mine = await resourcesOf(ctx, ctx.apiKey).$get({ param: { projectId: ctx.projectId }, query: {} })
  assert.is(mine.status, 200)
})

api("a name is unique per kind in the project (409); Idempotency-Key replays; the resource quota (422), kept in demeter.accounts", async (ctx) => {
  await created(ctx, { kind: "KupoPort", name: "indexer", spec: kupo })
  const before = await rows(ctx.fabric)
  const taken = await create(ctx, { kind: "KupoPort", name: "indexer", spec: kupo })
  assert.is(taken.status, 409)
  assert.equal(await rows(ctx.fabric), before)
  const [{ resource_quota }] = await ctx.fabric.sql("select resource_quota from demeter.accounts where id = $1", ctx.accountId)
  assert.is(resource_quota, 4)
  // Four active already (three above, this one): the fifth is over the quota, even with a key.
  const headers = { "idempotency-key": "node-1" }
  const over = await create(ctx, { kind: "CardanoNodePort", spec: { network: "mainnet", version: "10.1" } }, { headers })
  assert.is(over.status, 422)
  assert.equal(await rows(ctx.fabric), before)
  // A resource being deleted keeps its slot until it is gone from every cluster (never, here).
  const [victim] = await ctx.fabric.sql("select id from fabric.resources where name = 'indexer'")
  assert.is((await one(ctx, victim.id).$delete({ param: { projectId: ctx.projectId, resourceId: victim.id } })).status, 202)
  assert.is((await create(ctx, { kind: "CardanoNodePort", spec: { network: "mainnet", version: "10.1" } }, { headers })).status, 422)
  // The quota is the legacy column, which the old version edits too: raised, the key's first answer is a 201 and a replay repeats it.
  await ctx.fabric.sql("update demeter.accounts set resource_quota = 5 where id = $1", ctx.accountId)
  const first = await create(ctx, { kind: "CardanoNodePort", spec: { network: "mainnet", version: "10.1" } }, { headers })
  assert.is(first.status, 201)
  const counted = await rows(ctx.fabric)
  const replay = await create(ctx, { kind: "CardanoNodePort", spec: { network: "mainnet", version: "10.1" } }, { headers })
  assert.is(replay.status, 201)
  assert.equal(await replay.json(), await first.json())
  assert.equal(await rows(ctx.fabric), counted)
  const otherBody = await create(ctx, { kind: "CardanoNodePort", spec: { network: "preview", version: "10.1" } }, { headers })
  assert.is(otherBody.status, 409)
})

api("delete: 202 Deleting with a bumped generation, deleted desired state; a patch then is 409; deleting the project deletes its resources and refuses new ones", async (ctx) => {
  const project = (await (await ctx.fabric.clientFor().v1.accounts[":accountId"].projects.$post({ param: { accountId: ctx.accountId }, json: { name: "to delete" } })).json()) as { project: { id: string } }
  const other = { ...ctx, projectId: project.project.id }
  await ctx.fabric.sql("update demeter.accounts set resource_quota = 100 where id = $1", ctx.accountId)
  const [a, b] = [await created(other, { kind: "KupoPort", spec: kupo }), await created(other, { kind: "KupoPort", spec: kupo })]
  const r = await one(other, a.id).$delete({ param: { projectId: other.projectId, resourceId: a.id } })
  assert.is(r.status, 202)
  const deleting = ((await r.json()) as { resource: Resource }).resource
  assert.is(deleting.phase, "Deleting")
  assert.is(deleting.generation, 2)
  const [desired] = await ctx.fabric.sql("select value from fabric.outbox where topic = 'fabric.resources' and key = $1 order by id desc limit 1", a.id)
  assert.is(JSON.parse(desired.value).deleted, true)
  const patch = await one(other, a.id).$patch({ param: { projectId: other.projectId, resourceId: a.id }, json: { spec: { pruneUtxo: false } } })
  assert.is(patch.status, 409)

  assert.is((await ctx.fabric.clientFor().v1.projects[":projectId"].$delete({ param: { projectId: other.projectId } })).status, 202)
  const list = await (await resourcesOf(other).$get({ param: { projectId: other.projectId }, query: {} })).json()
  assert.equal(list.resources.map((x) => [x.id, x.phase]), [[a.id, "Deleting"], [b.id, "Deleting"]])
  const refused = await create(other, { kind: "KupoPort", spec: kupo })
  assert.is(refused.status, 409)
})

api.run()
