import { Effect, Layer } from "effect"
import { Conflict, QuotaExceeded } from "../../src/domain/errors.ts"
import { LegacyDemeter, type LegacyAccount, type LegacyProject, type LegacyResource } from "../../src/services/legacy-demeter.ts"
import { Database, jsonb, pgCodes, query, unavailable, type DatabaseError } from "./database.ts"

const isUnique = (e: DatabaseError, constraint: string) => e.code === pgCodes.uniqueViolation && e.constraint === constraint

const nameTaken = (r: LegacyResource) => Effect.fail(new Conflict({ message: `the project already has a ${r.kind} named ${r.name}` }))

export const layer = Layer.effect(
  LegacyDemeter,
  Effect.gen(function* () {
    const database = yield* Database
    const run = <A>(effect: Effect.Effect<A, DatabaseError, Database>) => Effect.provideService(effect, Database, database)

    const createAccount = Effect.fn("LegacyDemeter.createAccount")(function* (account: LegacyAccount) {
      const inserted = yield* run(query((sql) => sql`
        insert into demeter.accounts (id, name, project_quota, resource_quota, created_at)
        values (${account.id}, ${account.name}, ${account.projectQuota}, ${account.resourceQuota}, ${account.createdAt})
        on conflict (id) do nothing returning id`))
      if (inserted.length === 0) return // this step already ran
      yield* run(query((sql) => sql`
        insert into demeter.users (id, account_id, email, role, created_at)
        values (${`usr_${account.id.slice(4)}`}, ${account.id}, ${account.email}, 'owner', ${account.createdAt})`)).pipe(
        Effect.catchIf((e) => isUnique(e, "users_email_key"), () => Effect.fail(new Conflict({ message: `an account with email ${account.email} already exists` }))),
      )
      yield* run(query((sql) => sql`
        insert into demeter.audit_log (account_id, action, entity_id, details, created_at)
        values (${account.id}, 'account.created', ${account.id}, ${sql.json({ name: account.name, email: account.email })}, ${account.createdAt})`))
    }, Effect.catchTag("DatabaseError", (e) => Effect.fail(unavailable(e))))

    const createProject = Effect.fn("LegacyDemeter.createProject")(function* (project: LegacyProject) {
      // The account row's lock serializes one account's creations (the quota); it is held from
      // here to the commit, so this runs as late and as briefly as possible. The lock and the
      // write go out together (pipelined) but run as TWO statements: under READ COMMITTED a count
      // in the locking statement would use the snapshot taken before the lock wait (stale).
      const [locked, [outcome]] = yield* run(Effect.all([
        query((sql) => sql<{ projectQuota: number }[]>`
          select project_quota as "projectQuota" from demeter.accounts where id = ${project.accountId} for update`),
        query((sql) => sql<{ active: number; existed: boolean; inserted: boolean }[]>`
          with account as (select project_quota from demeter.accounts where id = ${project.accountId}),
          existing as (select 1 from demeter.projects where id = ${project.id}),
          active as (
            select count(*)::int as n from demeter.projects
            where account_id = ${project.accountId} and status = 'active' and id <> ${project.id}),
          inserted as (
            insert into demeter.projects (id, account_id, name, namespace, status, created_at)
            select ${project.id}, ${project.accountId}, ${project.name}, ${project.namespace}, 'active', ${project.createdAt}
            where not exists (select 1 from existing) and (select n from active) < (select project_quota from account)
            returning id),
          audited as (
            insert into demeter.audit_log (account_id, action, entity_id, details, created_at)
            select ${project.accountId}, 'project.created', id, ${sql.json({ name: project.name, namespace: project.namespace })}, ${project.createdAt}
            from inserted)
          select (select n from active) as active, exists (select 1 from existing) as existed, exists (select 1 from inserted) as inserted`),
      ], { concurrency: "unbounded" })).pipe(
        Effect.catchIf((e) => isUnique(e, "projects_namespace_key"), () => Effect.fail(new Conflict({ message: `namespace ${project.namespace} is taken` }))),
      )
      const quota = locked[0]?.projectQuota
      if (quota === undefined) return yield* Effect.die(new Error(`legacy account ${project.accountId} missing`))
      // This step already ran (a restored snapshot runs its steps again), or the account is full.
      if (outcome === undefined || outcome.existed || outcome.inserted) return
      return yield* new QuotaExceeded({ message: `the account has reached its quota of ${quota} projects`, limit: quota })
    }, Effect.catchTag("DatabaseError", (e) => Effect.fail(unavailable(e))))

    const markProjectDeleted = Effect.fn("LegacyDemeter.markProjectDeleted")(function* (projectId: string, at: Date) {
      const updated = yield* run(query((sql) => sql<{ accountId: string }[]>`
        update demeter.projects set status = 'deleted', deleted_at = ${at}
        where id = ${projectId} and status = 'active' returning account_id as "accountId"`))
      for (const row of updated) {
        yield* run(query((sql) => sql`
          insert into demeter.audit_log (account_id, action, entity_id, created_at)
          values (${row.accountId}, 'project.deleted', ${projectId}, ${at})`))
      }
    }, Effect.catchTag("DatabaseError", (e) => Effect.fail(unavailable(e))))

    const createResource = Effect.fn("LegacyDemeter.createResource")(function* (resource: LegacyResource) {
      // The account row's lock serializes the account's creations, as for projects; the count is
      // a statement of its own, after the lock (under READ COMMITTED it then sees every commit).
      const [locked] = yield* run(query((sql) => sql<{ resourceQuota: number }[]>`
        select resource_quota as "resourceQuota" from demeter.accounts where id = ${resource.accountId} for update`))
      if (locked === undefined) return yield* Effect.die(new Error(`legacy account ${resource.accountId} missing`))
      const [seen] = yield* run(query((sql) => sql<{ existed: boolean; taken: boolean; active: number }[]>`
        select exists (select 1 from demeter.resources where id = ${resource.id}) as existed,
               exists (select 1 from demeter.resources where project_id = ${resource.projectId} and kind = ${resource.kind}
                       and name = ${resource.name} and status = 'active') as taken,
               (select count(*)::int from demeter.resources where account_id = ${resource.accountId} and status = 'active') as active`))
      if (seen!.existed) return // this step already ran (a restored snapshot runs its steps again)
      // The name first: it says what is wrong with this request whatever the account holds.
      if (seen!.taken) return yield* nameTaken(resource)
      if (seen!.active >= locked.resourceQuota) {
        return yield* new QuotaExceeded({ message: `the account has reached its quota of ${locked.resourceQuota} resources`, limit: locked.resourceQuota })
      }
      yield* run(query((sql) => sql`
        with inserted as (
          insert into demeter.resources (id, account_id, project_id, kind, name, spec, created_at, updated_at)
          values (${resource.id}, ${resource.accountId}, ${resource.projectId}, ${resource.kind}, ${resource.name}, ${jsonb(sql, resource.spec)}, ${resource.createdAt}, ${resource.createdAt})
          returning id)
        insert into demeter.audit_log (account_id, action, entity_id, details, created_at)
        select ${resource.accountId}, 'resource.created', id, ${sql.json({ projectId: resource.projectId, kind: resource.kind, name: resource.name })}, ${resource.createdAt}
        from inserted`)).pipe(
        // Taken between the check and the insert (another account's creation does not hold this one's lock).
        Effect.catchIf((e) => isUnique(e, "resources_name_key"), () => nameTaken(resource)),
      )
    }, Effect.catchTag("DatabaseError", (e) => Effect.fail(unavailable(e))))

    const updateResourceSpec = Effect.fn("LegacyDemeter.updateResourceSpec")(function* (resourceId: string, spec: Readonly<Record<string, unknown>>, at: Date) {
      yield* run(query((sql) => sql`
        with updated as (
          update demeter.resources set spec = ${jsonb(sql, spec)}, updated_at = ${at}
          where id = ${resourceId} and status = 'active' and spec is distinct from ${jsonb(sql, spec)} returning account_id)
        insert into demeter.audit_log (account_id, action, entity_id, details, created_at)
        select account_id, 'resource.updated', ${resourceId}, '{}', ${at} from updated`))
    }, Effect.catchTag("DatabaseError", (e) => Effect.fail(unavailable(e))))

    const markResourceDeleted = Effect.fn("LegacyDemeter.markResourceDeleted")(function* (resourceId: string, at: Date) {
      yield* run(query((sql) => sql`
        with updated as (
          update demeter.resources set status = 'deleted', deleted_at = ${at}
          where id = ${resourceId} and status = 'active' returning account_id)
        insert into demeter.audit_log (account_id, action, entity_id, created_at)
        select account_id, 'resource.deleted', ${resourceId}, ${at} from updated`))
    }, Effect.catchTag("DatabaseError", (e) => Effect.fail(unavailable(e))))

    return LegacyDemeter.of({ createAccount, createProject, markProjectDeleted, createResource, updateResourceSpec, markResourceDeleted })
  }),
)
