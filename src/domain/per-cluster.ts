// What every entity Fabric holds in each member cluster shares (a project's namespace, a
// resource's object): its phase, its generation, its times, and its status per cluster id.
import { Schema } from "effect"
import { Timestamp } from "./timestamp.ts"

export const perClusterFields = <const Phases extends ReadonlyArray<string>, Status extends Schema.Constraint>(phases: Phases, clusterStatus: Status) => ({
  phase: Schema.Literals(phases),
  generation: Schema.Int,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  clusters: Schema.Record(Schema.String, clusterStatus),
})
