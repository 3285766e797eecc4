import { Context, type Effect } from "effect"
import type { Conflict, QuotaExceeded, Unavailable } from "../domain/errors.ts"

export interface LegacyAccount {
  readonly id: string
  readonly name: string
  readonly email: string
  /** Active projects the account may have (the old version enforces it too). */
  readonly projectQuota: number
  /** Active resources the account may have, over all its projects. */
  readonly resourceQuota: number
  readonly createdAt: Date
}

export interface LegacyProject {
  readonly id: string
  readonly accountId: string
  readonly name: string
  readonly namespace: string
  readonly createdAt: Date
}

export interface LegacyResource {
  readonly id: string
  readonly accountId: string
  readonly projectId: string
  readonly kind: string
  readonly name: string
  readonly spec: Readonly<Record<string, unknown>>
  readonly createdAt: Date
}

/**
 * The old Demeter database, kept working for the old version: its rows and its rules (unique
 * email, project quota, audit rows). Every write is keyed by the entity id, so running a step
 * again (a saga resumed after a crash) changes nothing.
 */
export class LegacyDemeter extends Context.Service<LegacyDemeter, {
  /** Account, owner user and audit row. Another account with that email: Conflict. */
  readonly createAccount: (account: LegacyAccount) => Effect.Effect<void, Conflict | Unavailable>
  /** Project and audit row, within the account's quota of active projects. */
  readonly createProject: (project: LegacyProject) => Effect.Effect<void, QuotaExceeded | Conflict | Unavailable>
  /** Marks the project deleted (frees its quota slot); the row stays for the old version's history. */
  readonly markProjectDeleted: (projectId: string, at: Date) => Effect.Effect<void, Unavailable>
  /** Resource and audit row, within the account's quota of active resources; a name taken (per kind, in the project) is a Conflict. */
  readonly createResource: (resource: LegacyResource) => Effect.Effect<void, QuotaExceeded | Conflict | Unavailable>
  /** The resource's spec after a patch, and an audit row. */
  readonly updateResourceSpec: (resourceId: string, spec: Readonly<Record<string, unknown>>, at: Date) => Effect.Effect<void, Unavailable>
  /** Marks the resource deleted (frees its quota slot and its name). */
  readonly markResourceDeleted: (resourceId: string, at: Date) => Effect.Effect<void, Unavailable>
}>()("fabric/LegacyDemeter") {}
