// The typed client of Fabric's HTTP API, generated from the same routes the server runs.
import { hc } from "hono/client"
import type { AppType } from "./app.ts"

export type { AppType }
export type { Project, Account, ClusterRecord } from "../src/domain/project.ts"
export type { ErrorBody } from "./errors.ts"

export const fabricClient = (baseUrl: string, token: string, init?: { fetch?: typeof fetch }) =>
  hc<AppType>(baseUrl, { headers: { authorization: `Bearer ${token}` }, ...(init?.fetch ? { fetch: init.fetch } : {}) })

export type FabricClient = ReturnType<typeof fabricClient>
