import { Schema } from "effect"
import { Hono } from "hono"
import { ClusterId } from "../../src/domain/cluster.ts"
import { ClusterRegistry } from "../../src/management/cluster-registry.ts"
import { operatorOnly } from "../http/auth.ts"
import type { FabricEnv } from "../http/env.ts"
import { validate } from "../http/validate.ts"

export const ClusterIdParam = Schema.Struct({
  clusterId: ClusterId.check(Schema.isPattern(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/u, { message: "clusterId must be a DNS-1123 label" })),
})

export const clusters = new Hono<FabricEnv>()
  .get("/", operatorOnly, async (c) => {
    const list = await c.var.run(ClusterRegistry.use((r) => r.list()))
    return c.json({ clusters: list }, 200)
  })
  // Removing a cluster from the fleet: projects stop waiting for it (docs/api.md).
  .delete("/:clusterId", operatorOnly, validate("param", ClusterIdParam), async (c) => {
    const { clusterId } = c.req.valid("param")
    const cluster = await c.var.run(ClusterRegistry.use((r) => r.remove(clusterId)))
    return c.json({ cluster }, 202)
  })
