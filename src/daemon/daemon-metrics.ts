// What a daemon counts, per cluster only (never per project: that label would grow without end).
import { counter } from "../services/metrics.ts"

export const reconciles = counter(
  "fabric_daemon_reconciles_total",
  "Desired-state messages a daemon brought its cluster to and reported (Ready, Deleted or Failed)",
  ["cluster"],
)

export const reconcileErrors = counter(
  "fabric_daemon_reconcile_errors_total",
  "Attempts that failed because the cluster refused or could not be reached (each is retried)",
  ["cluster"],
)

export const driftRepairs = counter(
  "fabric_daemon_drift_repairs_total",
  "Managed namespaces found missing and created again by the drift check",
  ["cluster"],
)
