import { Effect } from "effect"
import { Hono } from "hono"
import { KindCatalogue } from "../../src/services/kind-catalogue.ts"
import type { FabricEnv } from "../http/env.ts"

// The catalogue is the same for every caller: any valid token may read it.
export const kinds = new Hono<FabricEnv>()
  .get("/", async (c) => {
    const catalogue = await c.var.run(KindCatalogue.use((k) => Effect.succeed(k.kinds)))
    return c.json({ kinds: catalogue }, 200)
  })
