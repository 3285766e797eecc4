import { Effect, Layer } from "effect"
import { Conflict, QuotaExceeded } from "../../src/domain/errors.ts"
import { LegacyDemeter, type LegacyAccount, type LegacyProject } from "../../src/services/legacy-demeter.ts"
import { Database, pgCodes, query, unavailable, type DatabaseError } from "./database.ts"

const isUnique = (e: DatabaseError, constraint: string) => e.code === pgCodes.uniqueViolation && e.constraint === constraint

export const layer = Layer.effect(
  LegacyDemeter,
  Effect.gen(function* () {
    const database = yield* Database
    const run = <A>(effect: Effect.Effect<A, DatabaseError, Database>) => Effect.provideService(effect, Database, database)

    const createAccount = Effect.fn("LegacyDemeter.createAccount")(function* (account: LegacyAccount) {
      const inserted = yield* run(query((sql) => sql`
        insert into demeter.accounts (id, name, project_quota, created_at) values (${account.id}, ${account.name}, ${account.projectQuota}, ${account.createdAt})
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
      // Lock the account row first, then count in a NEW statement: under READ COMMITTED a count
      // in the locking statement would use the snapshot taken before the lock wait (stale).
      const locked = yield* run(query((sql) => sql<{ projectQuota: number }[]>`
        select project_quota as "projectQuota" from demeter.accounts where id = ${project.accountId} for update`))
      const [counted] = yield* run(query((sql) => sql<{ active: number }[]>`
        select count(*)::int as active from demeter.projects
        where account_id = ${project.accountId} and status = 'active' and id <> ${project.id}`))
      const account = locked[0] === undefined ? undefined : { projectQuota: locked[0].projectQuota, active: counted?.active ?? 0 }
      if (account === undefined) return yield* Effect.die(new Error(`legacy account ${project.accountId} missing`))
      const exists = yield* run(query((sql) => sql`select 1 from demeter.projects where id = ${project.id}`))
      if (exists.length > 0) return
      if (account.active >= account.projectQuota) {
        return yield* new QuotaExceeded({ message: `the account has reached its quota of ${account.projectQuota} projects`, limit: account.projectQuota })
      }
      yield* run(query((sql) => sql`
        insert into demeter.projects (id, account_id, name, namespace, status, created_at)
        values (${project.id}, ${project.accountId}, ${project.name}, ${project.namespace}, 'active', ${project.createdAt})`)).pipe(
        Effect.catchIf((e) => isUnique(e, "projects_namespace_key"), () => Effect.fail(new Conflict({ message: `namespace ${project.namespace} is taken` }))),
      )
      yield* run(query((sql) => sql`
        insert into demeter.audit_log (account_id, action, entity_id, details, created_at)
        values (${project.accountId}, 'project.created', ${project.id}, ${sql.json({ name: project.name, namespace: project.namespace })}, ${project.createdAt})`))
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

    return LegacyDemeter.of({ createAccount, createProject, markProjectDeleted })
  }),
)
