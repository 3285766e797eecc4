// The calls the end-to-end suites make again and again, through the typed client (a route change
// breaks them at compile time), and the failing side of it for the suites that expect a refusal.
import type { ClientResponse } from "hono/client"
import { expectOk, FabricApiError, type FabricClient } from "../../rpc/client.ts"

/** Awaits a typed call that must be refused: its FabricApiError (status, error body); a 2xx fails the test. */
export const expectApiError = async <R extends ClientResponse<unknown, number, "json">>(call: Promise<R> | R): Promise<FabricApiError> => {
  const answered = await expectOk(call).then(
    (body) => ({ ok: true as const, body }),
    (error: unknown) => {
      if (error instanceof FabricApiError) return { ok: false as const, error }
      throw error
    },
  )
  if (answered.ok) throw new Error(`expected a refusal, got a 2xx answer: ${JSON.stringify(answered.body)}`)
  return answered.error
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
