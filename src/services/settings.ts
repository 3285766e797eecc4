import { Context } from "effect"

/** Business settings of the management side, from configuration (FABRIC_PROJECT_QUOTA, FABRIC_RESOURCE_QUOTA). */
export const ManagementSettings = Context.Reference<{ readonly projectQuota: number; readonly resourceQuota: number }>("fabric/ManagementSettings", {
  defaultValue: () => ({ projectQuota: 10, resourceQuota: 50 }),
})
