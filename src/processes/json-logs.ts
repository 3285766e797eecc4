// How Fabric's processes log: one JSON object per line on stdout (Effect's consoleJson), with
// annotations such as `requestId` and `cluster` under "annotations", so one request id finds
// every line of a change. In-process tests keep Effect's default (readable) logger.
import { Logger } from "effect"

export const jsonLogs = Logger.layer([Logger.consoleJson])
