import { Schema } from "effect"
import { Hono } from "hono"
import { ClusterId } from "../../src/domain/cluster.ts"
import { isDns1123LabelCheck } from "../../src/domain/names.ts"
import { ClusterRegistry } from "../../src/management/cluster-registry.ts"
import { operatorOnly } from "../http/auth.ts"
import type { FabricEnv } from "../http/env.ts"
import { validate } from "../http/validate.ts"

export const ClusterIdParam = Schema.Struct({
  clusterId: ClusterId.check(isDns1123LabelCheck("clusterId")),
})

/** `?force=true` removes even the last Active cluster (docs/api.md). */
export const RemoveClusterQuery = Schema.Struct({
  force: Schema.optional(Schema.Literals(["true", "false"])),
})

export const clusters = new Hono<FabricEnv>()
  .get("/", operatorOnly, async (c) => {
    const list = await c.var.run(ClusterRegistry.use((r) => r.list()))
    return c.json({ clusters: list }, 200)
  })
  // Removing a cluster from the fleet: projects stop waiting for it (docs/api.md).
  // The last Active cluster only with ?force=true (409 otherwise).
  .delete("/:clusterId", operatorOnly, validate("param", ClusterIdParam), validate("query", RemoveClusterQuery), async (c) => {
    const { clusterId } = c.req.valid("param")
    const force = c.req.valid("query").force === "true"
    const cluster = await c.var.run(ClusterRegistry.use((r) => r.remove(clusterId, { force })))
    return c.json({ cluster }, 202)
  })
