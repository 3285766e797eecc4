/** The project as the API shows it (docs/api.md) and as the state store keeps it. */
export const projectPhases = ["Provisioning", "Ready", "Degraded", "Deleting", "Deleted"] as const
export type ProjectPhase = (typeof projectPhases)[number]

export const clusterNamespacePhases = ["Pending", "Ready", "Failed", "Deleting", "Deleted"] as const
export type ClusterNamespacePhase = (typeof clusterNamespacePhases)[number]

export interface ClusterNamespaceStatus {
  readonly phase: ClusterNamespacePhase
  readonly reason?: string
  readonly observedGeneration: number
  readonly updatedAt: string
}

export interface Project {
  readonly id: string
  readonly accountId: string
  readonly name: string
  readonly namespace: string
  readonly phase: ProjectPhase
  readonly generation: number
  readonly createdAt: string
  readonly updatedAt: string
  readonly clusters: Readonly<Record<string, ClusterNamespaceStatus>>
}

export interface Account {
  readonly id: string
  readonly name: string
  readonly email: string
  readonly createdAt: string
}

export const clusterPhases = ["Active", "Unreachable", "Removed"] as const
export type ClusterPhase = (typeof clusterPhases)[number]

export interface ClusterRecord {
  readonly id: string
  readonly phase: ClusterPhase
  readonly lastSeenAt: string | null
}

/** Who is calling: the operator, or the holder of one account's API key. */
export type Caller = { readonly kind: "operator" } | { readonly kind: "account"; readonly accountId: string }

export const canAccessAccount = (caller: Caller, accountId: string): boolean =>
  caller.kind === "operator" || caller.accountId === accountId
