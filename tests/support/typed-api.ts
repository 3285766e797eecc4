// The calls the end-to-end suites make again and again, through the typed client (a route change
// breaks them at compile time), and the failing side of it for the suites that expect a refusal.
import type { ClientResponse } from "hono/client"
import { expectOk, FabricApiError, type FabricClient } from "../../rpc/client.ts"

type TypedCall<R> = Promise<R> | R

/** A typed call's 2xx body, or its refusal as a FabricApiError; a call that got no answer still rejects. */
export const bodyOrRefusal = <R extends ClientResponse<unknown, number, "json">>(call: TypedCall<R>) =>
  expectOk(call).catch((error: unknown) => {
    if (error instanceof FabricApiError) return error
    throw error
  })

/** Awaits a typed call that must be refused: its FabricApiError (status, error body, headers); a 2xx fails the test. */
export const expectApiError = async <R extends ClientResponse<unknown, number, "json">>(call: TypedCall<R>): Promise<FabricApiError> => {
  const answered = await bodyOrRefusal(call)
  if (answered instanceof FabricApiError) return answered
  throw new Error(`expected a refusal, got a 2xx answer: ${JSON.stringify(answered)}`)
}

/** The request options of a call sent with an Idempotency-Key (docs/api.md, Idempotency). */
export const withIdempotencyKey = (key: string) => ({ headers: { "idempotency-key": key } })

export const createProject = async (client: FabricClient, accountId: string, name: string) =>
  (await expectOk(client.v1.accounts[":accountId"].projects.$post({ param: { accountId }, json: { name } }))).project

export const deleteProject = async (client: FabricClient, projectId: string) =>
  (await expectOk(client.v1.projects[":projectId"].$delete({ param: { projectId } }))).project

/** The cluster's phase in GET /v1/clusters; undefined when Fabric does not know it. */
export const clusterPhaseOf = async (client: FabricClient, clusterId: string) =>
  (await expectOk(client.v1.clusters.$get())).clusters.find((c) => c.id === clusterId)?.phase
