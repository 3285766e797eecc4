// The EventBus contract against the embedded event log (the default of `npm start`), on one
// PGlite data directory that every case reopens, as a restarted process would.
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Layer } from "effect"
import * as eventLog from "../../adapters/embedded/event-log.ts"
import * as pglite from "../../adapters/embedded/pglite.ts"
import { eventBusContract } from "./event-bus.ts"

const dataDir = mkdtempSync(join(tmpdir(), "fabric-event-log-"))

const contract = eventBusContract("embedded event log", () =>
  eventLog.layer({ pollIntervalMs: 50 }).pipe(Layer.provide(pglite.layer({ dataDir }))))

contract.run()
