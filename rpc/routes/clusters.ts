import { Hono } from "hono"
import { Management } from "../../src/management/management.ts"
import { operatorOnly } from "../auth.ts"
import type { FabricEnv } from "../env.ts"

export const clusters = new Hono<FabricEnv>().get("/", operatorOnly, async (c) => {
  const list = await c.var.run(Management.use((m) => m.listClusters()))
  return c.json({ clusters: list }, 200)
})
