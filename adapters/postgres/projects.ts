import { Effect } from "effect"
import { AccountId } from "../../src/domain/account.ts"
import { ProjectId, type ClusterNamespaceStatus, type Project, type ProjectPhase } from "../../src/domain/project.ts"
import { ProjectReadModel } from "../../src/services/project-read-model.ts"
import { query } from "./database.ts"
import { clusterChanges, decodePagePosition, pageOf } from "./read-model-rows.ts"
import { repositoryLayer } from "./repository-layer.ts"

interface ProjectRow {
  id: string; accountId: string; name: string; namespace: string; phase: ProjectPhase
  generation: number; createdAt: Date; updatedAt: Date
}
interface ClusterRow {
  projectId: string; clusterId: string; phase: ClusterNamespaceStatus["phase"]; reason: string | null
  observedGeneration: number; updatedAt: Date
}

const assemble = (rows: ReadonlyArray<ProjectRow>, clusterRows: ReadonlyArray<ClusterRow>): Project[] =>
  rows.map((r) => ({
    id: ProjectId.make(r.id), accountId: AccountId.make(r.accountId), name: r.name, namespace: r.namespace, phase: r.phase, generation: r.generation,
    createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(),
    clusters: Object.fromEntries(
      clusterRows.filter((c) => c.projectId === r.id).map((c) => [c.clusterId, {
        phase: c.phase, observedGeneration: c.observedGeneration, updatedAt: c.updatedAt.toISOString(),
        ...(c.reason === null ? {} : { reason: c.reason }),
      }]),
    ),
  }))

const clustersOf = (ids: ReadonlyArray<string>) =>
  ids.length === 0
    ? Effect.succeed([] as ClusterRow[])
    : query((sql) => sql<ClusterRow[]>`
        select project_id as "projectId", cluster_id as "clusterId", phase, reason,
               observed_generation as "observedGeneration", updated_at as "updatedAt"
        from fabric.project_clusters where project_id in ${sql(ids as string[])} order by cluster_id`)

const projectColumns = `id, account_id as "accountId", name, namespace, phase, generation, created_at as "createdAt", updated_at as "updatedAt"`

const clusterRow = (projectId: string, clusterId: string, c: ClusterNamespaceStatus) => ({
  project_id: projectId, cluster_id: clusterId, phase: c.phase, reason: c.reason ?? null,
  observed_generation: c.observedGeneration, updated_at: new Date(c.updatedAt),
})

const sameStatus = (a: ClusterNamespaceStatus, b: ClusterNamespaceStatus) =>
  a.phase === b.phase && a.observedGeneration === b.observedGeneration && a.reason === b.reason && a.updatedAt === b.updatedAt

/**
 * Writes the read model of a project as the machine left it. Given the model it had before (the
 * loaded snapshot's), only what changed is written: the project row when its phase, generation or
 * time moved, and only the cluster rows that changed, so one observation costs O(1) rows however
 * many clusters the project spans. The statements go out together (pipelined on the connection).
 */
export const saveProject = (p: Project, before: Project | undefined) =>
  Effect.gen(function* () {
    const { changed, removed } = clusterChanges(p.clusters, before?.clusters, sameStatus)
    const rowMoved = before === undefined || before.phase !== p.phase || before.generation !== p.generation || before.updatedAt !== p.updatedAt
    const writes = [
      ...(before === undefined
        ? [query((sql) => sql`
            insert into fabric.projects (id, account_id, name, namespace, phase, generation, created_at, updated_at)
            values (${p.id}, ${p.accountId}, ${p.name}, ${p.namespace}, ${p.phase}, ${p.generation}, ${new Date(p.createdAt)}, ${new Date(p.updatedAt)})`)]
        : rowMoved
        ? [query((sql) => sql`
            update fabric.projects set phase = ${p.phase}, generation = ${p.generation}, updated_at = ${new Date(p.updatedAt)} where id = ${p.id}`)]
        : []),
      ...(changed.length === 0 ? [] : [query((sql) => sql`
        insert into fabric.project_clusters ${sql(changed.map(([id, c]) => clusterRow(p.id, id, c)))}
        on conflict (project_id, cluster_id) do update set phase = excluded.phase, reason = excluded.reason,
          observed_generation = excluded.observed_generation, updated_at = excluded.updated_at`)]),
      ...(removed.length === 0 ? [] : [query((sql) => sql`
        delete from fabric.project_clusters where project_id = ${p.id} and cluster_id in ${sql(removed)}`)]),
    ]
    yield* Effect.all(writes, { concurrency: "unbounded", discard: true })
  })

export const getProject = (id: ProjectId) =>
  Effect.gen(function* () {
    const rows = yield* query((sql) => sql<ProjectRow[]>`select ${sql.unsafe(projectColumns)} from fabric.projects where id = ${id}`)
    if (rows.length === 0) return undefined
    return assemble(rows, yield* clustersOf([id]))[0]
  })

export const listProjects = (accountId: AccountId, page: { limit: number; cursor: string | undefined }) =>
  Effect.gen(function* () {
    const after = page.cursor === undefined ? undefined : decodePagePosition(page.cursor)
    const rows = yield* query((sql) => sql<ProjectRow[]>`
      select ${sql.unsafe(projectColumns)} from fabric.projects
      where account_id = ${accountId}
      ${after ? sql`and (created_at, id) > (${after[0]}, ${after[1]})` : sql``}
      order by created_at, id limit ${page.limit + 1}`)
    const pageRows = rows.slice(0, page.limit)
    return pageOf(assemble(pageRows, yield* clustersOf(pageRows.map((r) => r.id))), rows, page.limit)
  })

export const countProjects = () =>
  query((sql) => sql<{ n: number }[]>`select count(*)::int as n from fabric.projects`).pipe(Effect.map((r) => r[0]?.n ?? 0))

export const holdLiveProject = (id: ProjectId) =>
  query((sql) => sql`select id from fabric.projects where id = ${id} and phase not in ('Deleting', 'Deleted') for share`).pipe(
    Effect.map((rows) => rows.length > 0),
  )

/** ProjectReadModel on Postgres. */
export const layer = repositoryLayer(ProjectReadModel, { saveProject, getProject, listProjects, countProjects, holdLiveProject })
