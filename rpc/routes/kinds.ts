import { Effect } from "effect"
import { Hono } from "hono"
import { kindRecordOf } from "../../src/domain/kind.ts"
import { ClusterRegistry } from "../../src/management/cluster-registry.ts"
import { KindCatalogue } from "../../src/services/kind-catalogue.ts"
import type { FabricEnv } from "../http/env.ts"

// The catalogue is the same for every caller: any valid token may read it (cluster ids are in
// every project's status already).
export const kinds = new Hono<FabricEnv>()
  .get("/", async (c) => {
    const [catalogue, clusters] = await c.var.run(Effect.all([KindCatalogue.use((k) => Effect.succeed(k.kinds)), ClusterRegistry.use((r) => r.list())]))
    return c.json({ kinds: catalogue.map((k) => kindRecordOf(k, clusters)) }, 200)
  })
