import { Effect } from "effect"
import { AccountId } from "../../src/domain/account.ts"
import { ProjectId } from "../../src/domain/project.ts"
import { ResourceId, type ClusterResourceStatus, type Resource, type ResourceCondition, type ResourcePhase, type Spec } from "../../src/domain/resource.ts"
import { ResourceReadModel } from "../../src/services/resource-read-model.ts"
import { jsonb, query } from "./database.ts"
import { clusterChanges, decodePagePosition, pageOf } from "./read-model-rows.ts"
import { repositoryLayer } from "./repository-layer.ts"

interface ResourceRow {
  id: string; projectId: string; accountId: string; kind: string; name: string; spec: Spec; phase: ResourcePhase
  generation: number; createdAt: Date; updatedAt: Date
}
interface StatusRow {
  resourceId: string; clusterId: string; phase: ClusterResourceStatus["phase"]; reason: string | null
  observedGeneration: number; conditions: ReadonlyArray<ResourceCondition> | null; updatedAt: Date
}

const columns = `id, project_id as "projectId", account_id as "accountId", kind, name, spec, phase, generation, created_at as "createdAt", updated_at as "updatedAt"`

const toResource = (r: ResourceRow, statuses: ReadonlyArray<StatusRow>): Resource => ({
  id: ResourceId.make(r.id), projectId: ProjectId.make(r.projectId), accountId: AccountId.make(r.accountId), kind: r.kind, name: r.name, spec: r.spec,
  phase: r.phase, generation: r.generation, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(),
  clusters: Object.fromEntries(statuses.filter((c) => c.resourceId === r.id).map((c) => [c.clusterId, {
    phase: c.phase, observedGeneration: c.observedGeneration, updatedAt: c.updatedAt.toISOString(),
    ...(c.reason === null ? {} : { reason: c.reason }), ...(c.conditions === null ? {} : { conditions: c.conditions }),
  }])),
})

const statusesOf = (ids: ReadonlyArray<string>) =>
  ids.length === 0
    ? Effect.succeed([] as StatusRow[])
    : query((sql) => sql<StatusRow[]>`
        select resource_id as "resourceId", cluster_id as "clusterId", phase, reason, observed_generation as "observedGeneration", conditions, updated_at as "updatedAt"
        from fabric.resource_clusters where resource_id in ${sql(ids as string[])} order by cluster_id`)

const sameStatus = (a: ClusterResourceStatus, b: ClusterResourceStatus) => JSON.stringify(a) === JSON.stringify(b)

/** Like the project read model: the resource row when it moved, and only the cluster rows that changed (pipelined). */
export const saveResource = (r: Resource, before: Resource | undefined) =>
  Effect.gen(function* () {
    const { changed, removed } = clusterChanges(r.clusters, before?.clusters, sameStatus)
    const moved = before === undefined || before.phase !== r.phase || before.generation !== r.generation || before.updatedAt !== r.updatedAt
    yield* Effect.all([
      ...(before === undefined
        ? [query((sql) => sql`
            insert into fabric.resources (id, project_id, account_id, kind, name, spec, phase, generation, created_at, updated_at)
            values (${r.id}, ${r.projectId}, ${r.accountId}, ${r.kind}, ${r.name}, ${jsonb(sql, r.spec)}, ${r.phase}, ${r.generation}, ${new Date(r.createdAt)}, ${new Date(r.updatedAt)})`)]
        : moved
        ? [query((sql) => sql`
            update fabric.resources set spec = ${jsonb(sql, r.spec)}, phase = ${r.phase}, generation = ${r.generation}, updated_at = ${new Date(r.updatedAt)} where id = ${r.id}`)]
        : []),
      ...(changed.length === 0 ? [] : [query((sql) => sql`
        insert into fabric.resource_clusters ${sql(changed.map(([clusterId, c]) => ({
          resource_id: r.id, cluster_id: clusterId, phase: c.phase, reason: c.reason ?? null, observed_generation: c.observedGeneration,
          conditions: c.conditions === undefined ? null : jsonb(sql, c.conditions), updated_at: new Date(c.updatedAt),
        })))}
        on conflict (resource_id, cluster_id) do update set phase = excluded.phase, reason = excluded.reason,
          observed_generation = excluded.observed_generation, conditions = excluded.conditions, updated_at = excluded.updated_at`)]),
      ...(removed.length === 0 ? [] : [query((sql) => sql`
        delete from fabric.resource_clusters where resource_id = ${r.id} and cluster_id in ${sql(removed)}`)]),
    ], { concurrency: "unbounded", discard: true })
  })

export const getResource = (id: ResourceId) =>
  Effect.gen(function* () {
    const rows = yield* query((sql) => sql<ResourceRow[]>`select ${sql.unsafe(columns)} from fabric.resources where id = ${id}`)
    return rows[0] === undefined ? undefined : toResource(rows[0], yield* statusesOf([id]))
  })

export const listResources = (projectId: ProjectId, page: { limit: number; cursor: string | undefined }) =>
  Effect.gen(function* () {
    const after = page.cursor === undefined ? undefined : decodePagePosition(page.cursor)
    const rows = yield* query((sql) => sql<ResourceRow[]>`
      select ${sql.unsafe(columns)} from fabric.resources where project_id = ${projectId}
      ${after ? sql`and (created_at, id) > (${after[0]}, ${after[1]})` : sql``}
      order by created_at, id limit ${page.limit + 1}`)
    const pageRows = rows.slice(0, page.limit)
    const statuses = yield* statusesOf(pageRows.map((r) => r.id))
    return pageOf(pageRows.map((r) => toResource(r, statuses)), rows, page.limit)
  })

export const liveResourceIds = (projectId: ProjectId) =>
  query((sql) => sql<{ id: string }[]>`
    select id from fabric.resources where project_id = ${projectId} and phase not in ('Deleting', 'Deleted') order by id`).pipe(
    Effect.map((rows) => rows.map((r) => ResourceId.make(r.id))),
  )

/** ResourceReadModel on Postgres. */
export const layer = repositoryLayer(ResourceReadModel, { saveResource, getResource, listResources, liveResourceIds })
