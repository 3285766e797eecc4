// The management domain program: what the RPC driver calls (docs/flows.md). Each
// command writes legacy rows, state and the outbox row in ONE transaction through the actor host.
import { Clock, Context, Effect, Layer } from "effect"
import { hostedAccount } from "../../machines/account-steps.ts"
import { makeHost } from "../../machines/host.ts"
import { hostedProject, toProject } from "../../machines/project-steps.ts"
import { Conflict, NotFound, Unauthorized } from "../domain/errors.ts"
import { NamespaceObservation } from "../domain/messages.ts"
import { canAccessAccount, type Account, type Caller, type ClusterRecord, type Project } from "../domain/project.ts"
import { Changes } from "../services/changes.ts"
import { Metrics } from "../services/metrics.ts"
import { Ids } from "../services/ids.ts"
import { LegacyDemeter } from "../services/legacy-demeter.ts"
import { ManagementSettings } from "../services/settings.ts"
import { StateStore, type Page } from "../services/state-store.ts"
import { Transactions } from "../services/transactions.ts"
import { bearerTokenOf, constantTimeEqual, sha256Hex } from "./credentials.ts"

export interface Idempotency {
  readonly key: string
  /** Hash of the request body: the same key with another body is a conflict. */
  readonly requestHash: string
}

export interface CreatedAccount {
  readonly account: Account
  readonly project: Project
  /** Shown once; null when an Idempotency-Key replay answers (the key is never stored). */
  readonly apiKey: string | null
}

const iso = (millis: number) => new Date(millis).toISOString()

const make = Effect.gen(function* () {
  const services = yield* Effect.context<StateStore | LegacyDemeter | Transactions | Ids | Changes | Metrics>()
  const store = yield* StateStore
  const transactions = yield* Transactions
  const ids = yield* Ids
  const accounts = makeHost(hostedAccount)
  const projects = makeHost(hostedProject)
  const provide = <A, E>(effect: Effect.Effect<A, E, StateStore | LegacyDemeter | Transactions | Ids | Changes | Metrics>) => Effect.provideContext(effect, services)

  /** Every cluster not removed is a member; Unreachable ones do not hold a project back from Ready. */
  const members = store.listClusters().pipe(Effect.map((cs) => cs.filter((c) => c.phase !== "Removed")))

  /** Runs `create` once per Idempotency-Key: a replay with the same body returns the first answer. */
  const idempotent = <A, E, R>(scope: string, idempotency: Idempotency | undefined, create: Effect.Effect<A, E, R>, stored: (a: A) => unknown, replay: (body: unknown) => A) => {
    if (idempotency === undefined) return transactions.transactionally(create)
    const attempt = transactions.transactionally(Effect.gen(function* () {
      const found = yield* store.findIdempotent(scope, idempotency.key)
      if (found !== undefined) {
        if (found.requestHash !== idempotency.requestHash) return yield* new Conflict({ message: "this Idempotency-Key was used with a different request body" })
        return replay(found.body)
      }
      const result = yield* create
      yield* store.saveIdempotent(scope, idempotency.key, { requestHash: idempotency.requestHash, status: 201, body: stored(result) })
      return result
    }))
    // Two requests racing on one key: the loser finds the winner's answer on its second try.
    const inProgress = () => Effect.fail(new Conflict({ message: "a request with this Idempotency-Key is in progress; try again" }))
    return attempt.pipe(
      Effect.catchTag("IdempotencyKeyTaken", () => attempt),
      Effect.catchTag("IdempotencyKeyTaken", inProgress),
    )
  }

  const newProject = (accountId: string, name: string) =>
    Effect.gen(function* () {
      const projectId = yield* ids.projectId
      const namespace = yield* ids.namespace(name)
      const at = iso(yield* Clock.currentTimeMillis)
      // Two statements, pipelined: the members are read after the lock is held.
      const [, clusters] = yield* Effect.all([store.lockMembership("shared"), members], { concurrency: "unbounded" })
      const snapshot = yield* projects.create(projectId, {
        projectId, accountId, name, namespace, at,
        clusterIds: clusters.map((c) => c.id),
        unreachableClusterIds: clusters.filter((c) => c.phase === "Unreachable").map((c) => c.id),
      })
      return toProject(snapshot)
    })

  const createAccount = Effect.fn("Management.createAccount")(function* (input: { name: string; email: string }, idempotency: Idempotency | undefined) {
    const apiKey = yield* ids.apiKey
    const apiKeyHash = yield* Effect.promise(() => sha256Hex(apiKey))
    return yield* idempotent(
      "operator:POST /v1/accounts", idempotency,
      Effect.gen(function* () {
        const accountId = yield* ids.accountId
        const at = iso(yield* Clock.currentTimeMillis)
        const { projectQuota } = yield* ManagementSettings
        yield* accounts.create(accountId, { accountId, name: input.name, email: input.email, apiKeyHash, projectQuota, at })
        const project = yield* newProject(accountId, input.name)
        const account: Account = { id: accountId, name: input.name, email: input.email, createdAt: at }
        return { account, project, apiKey } as CreatedAccount
      }),
      (r) => ({ account: r.account, project: r.project }),
      (body) => ({ ...(body as Omit<CreatedAccount, "apiKey">), apiKey: null }),
    )
  }, provide)

  const accountFor = (caller: Caller, accountId: string) =>
    Effect.gen(function* () {
      // Another account's resource answers 404, exactly like a missing one (no existence leak).
      if (!canAccessAccount(caller, accountId)) return yield* new NotFound({ resource: "account", id: accountId })
      const account = yield* store.getAccount(accountId)
      if (account === undefined) return yield* new NotFound({ resource: "account", id: accountId })
      return account
    })

  const projectFor = (caller: Caller, projectId: string) =>
    Effect.gen(function* () {
      const project = yield* store.getProject(projectId)
      if (project === undefined || !canAccessAccount(caller, project.accountId)) return yield* new NotFound({ resource: "project", id: projectId })
      return project
    })

  const getAccount = Effect.fn("Management.getAccount")(accountFor, provide)

  const createProject = Effect.fn("Management.createProject")(function* (caller: Caller, accountId: string, input: { name: string }, idempotency: Idempotency | undefined) {
    yield* accountFor(caller, accountId)
    return yield* idempotent(
      `${accountId}:POST /v1/accounts/${accountId}/projects`, idempotency,
      newProject(accountId, input.name),
      (p) => p,
      (body) => body as Project,
    )
  }, provide)

  const getProject = Effect.fn("Management.getProject")(projectFor, provide)

  const listProjects = Effect.fn("Management.listProjects")(function* (caller: Caller, accountId: string, page: { limit: number; cursor: string | undefined }) {
    yield* accountFor(caller, accountId)
    return (yield* store.listProjects(accountId, page)) as Page<Project>
  }, provide)

  const deleteProject = Effect.fn("Management.deleteProject")(function* (caller: Caller, projectId: string) {
    const project = yield* projectFor(caller, projectId)
    if (project.phase === "Deleting" || project.phase === "Deleted") return project
    const at = iso(yield* Clock.currentTimeMillis)
    return toProject(yield* projects.send(projectId, { type: "project.delete", at }))
  }, provide)

  /**
   * Daemons' observations of ONE project, in the order they were published, applied in one
   * transaction (one load, one save); stale or duplicate ones change nothing (at-least-once).
   */
  const recordObservations = Effect.fn("Management.recordObservations")(function* (projectId: string, observations: ReadonlyArray<NamespaceObservation>) {
    yield* projects.sendAll(projectId, observations.map((o) => ({ type: "project.observed" as const, ...o, at: o.observedAt }))).pipe(
      Effect.catchTag("NotFound", () => Effect.logWarning("observations for an unknown project ignored", { projectId, count: observations.length })),
    )
  }, provide)

  const listClusters = Effect.fn("Management.listClusters")(function* () {
    return (yield* store.listClusters()) as ReadonlyArray<ClusterRecord>
  }, provide)

  const authenticate = Effect.fn("Management.authenticate")(function* (authorization: string | undefined, operatorToken: string) {
    const token = bearerTokenOf(authorization)
    if (token === undefined) return yield* new Unauthorized({ message: "missing bearer token" })
    if (constantTimeEqual(token, operatorToken)) return { kind: "operator" } as Caller
    const accountId = yield* store.accountIdForKey(yield* Effect.promise(() => sha256Hex(token)))
    if (accountId === undefined) return yield* new Unauthorized({ message: "invalid token" })
    return { kind: "account", accountId } as Caller
  }, provide)

  const ready = store.countProjects().pipe(Effect.asVoid)

  /** For the debug UI: actors, newest first. */
  const listActors = Effect.fn("Management.listActors")(function* (options: { machine?: "account" | "project"; limit: number }) {
    return yield* store.listActors(options)
  }, provide)

  /** For the debug UI: one actor's snapshot (state and context) and its event history. */
  const actorDetail = Effect.fn("Management.actorDetail")(function* (actorId: string, historyLimit: number) {
    const host = actorId.startsWith("acc_") ? accounts : projects
    const snapshot = yield* host.load(actorId)
    if (snapshot === undefined) return yield* new NotFound({ resource: "actor", id: actorId })
    const history = yield* store.actorHistory(actorId, historyLimit)
    return { actorId, machine: host === accounts ? "account" as const : "project" as const, value: snapshot.value, status: snapshot.status, context: snapshot.context as unknown, history }
  }, provide)

  /** For the debug UI: a logout ends its session on every replica (rpc/debug-session.ts). */
  const revokeDebugSession = Effect.fn("Management.revokeDebugSession")(function* (sessionId: string, expiresAtMs: number) {
    yield* store.revokeDebugSession(sessionId, new Date(expiresAtMs), new Date(yield* Clock.currentTimeMillis))
  }, provide)

  const isDebugSessionRevoked = (sessionId: string) => store.isDebugSessionRevoked(sessionId)

  return {
    createAccount, getAccount, createProject, getProject, listProjects, deleteProject,
    recordObservations, listClusters, authenticate, ready, listActors, actorDetail,
    revokeDebugSession, isDebugSessionRevoked,
  }
})

/** The management domain: accounts, projects, observations, clusters. */
export class Management extends Context.Service<Management, Effect.Success<typeof make>>()("fabric/Management") {
  static readonly layer = Layer.effect(Management, make)
}
