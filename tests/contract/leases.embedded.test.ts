// The Leases contract against the in-process layer of the embedded default: one process, so every
// contender is the same service.
import { Context, Effect, Layer } from "effect"
import { Leases } from "../../src/services/leases.ts"
import { leasesContract } from "./leases.ts"

leasesContract("in-process", (count) =>
  Layer.build(Leases.layer("embedded-process")).pipe(
    Effect.map((context) => Array.from({ length: count }, () => Context.get(context, Leases))),
  )).run()
