// The failing side of the typed client, for tests that expect a refusal.
import type { ClientResponse } from "hono/client"
import { expectOk, FabricApiError } from "../../rpc/client.ts"

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
