import { Context, type Effect } from "effect"
import type { Conflict, QuotaExceeded, Unavailable } from "../domain/errors.ts"

export interface LegacyAccount {
  readonly id: string
  readonly name: string
  readonly email: string
  /** Active projects the account may have (the old version enforces it too). */
  readonly projectQuota: number
  readonly createdAt: Date
}

export interface LegacyProject {
  readonly id: string
  readonly accountId: string
  readonly name: string
  readonly namespace: string
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
}>()("fabric/LegacyDemeter") {}
