// The typed client of Fabric's HTTP API, generated from the same routes the server runs: a route
// change breaks its callers (the CLI, the end-to-end tests) at compile time.
import { hc, type ClientResponse } from "hono/client"
import type { SuccessStatusCode } from "hono/utils/http-status"
import type { AppType } from "./app.ts"
import type { ErrorBody } from "./http/errors.ts"

export type { AppType }
export type { Account, AccountId } from "../src/domain/account.ts"
export type { ClusterId, ClusterRecord } from "../src/domain/cluster.ts"
export type { Project, ProjectId } from "../src/domain/project.ts"
export type { Kind } from "../src/domain/kind.ts"
export type { Resource, ResourceId } from "../src/domain/resource.ts"
export type { ErrorBody }

export const fabricClient = (baseUrl: string, token: string, init?: { fetch?: typeof fetch }) =>
  hc<AppType>(baseUrl, { headers: { authorization: `Bearer ${token}` }, ...(init?.fetch ? { fetch: init.fetch } : {}) })

export type FabricClient = ReturnType<typeof fabricClient>

/** The body a route sends with a 2xx status, as the route types it. */
export type SuccessBody<R> = R extends ClientResponse<infer T, infer S, infer _F> ? (S extends SuccessStatusCode ? T : never) : never

/** Any answer that is not 2xx, with the error body of docs/api.md when the server sent one. */
export class FabricApiError extends Error {
  readonly status: number
  readonly body: ErrorBody | undefined
  /** The answer's headers: `Retry-After` comes with a 429, and with a 503 while the server stops. */
  readonly headers: Headers
  constructor(status: number, body: ErrorBody | undefined, headers: Headers = new Headers()) {
    super(`${body?.error.code ?? status}: ${body?.error.message ?? "no error body"}`)
    this.status = status
    this.body = body
    this.headers = headers
  }
}

/** Awaits a typed call and returns its 2xx body; any other status throws FabricApiError. */
export const expectOk = async <R extends ClientResponse<unknown, number, "json">>(call: Promise<R> | R): Promise<SuccessBody<R>> => {
  const response = await call
  if (response.ok) return (await response.json()) as SuccessBody<R>
  const body = await response.json().catch(() => undefined) as ErrorBody | undefined
  throw new FabricApiError(response.status, body?.error === undefined ? undefined : body, response.headers)
}
