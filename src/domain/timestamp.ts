import { Schema } from "effect"

/** An instant as Fabric writes it: ISO-8601 (`Date.prototype.toISOString`). */
export const Timestamp = Schema.String.annotate({ format: "date-time", description: "ISO-8601" })
