import { Context } from "effect"

/** Business settings of the management side, from configuration (FABRIC_PROJECT_QUOTA). */
export const ManagementSettings = Context.Reference<{ readonly projectQuota: number }>("fabric/ManagementSettings", {
  defaultValue: () => ({ projectQuota: 10 }),
})
