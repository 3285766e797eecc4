import { Context, Effect, Layer } from "effect"
import { formatId, randomChars } from "../domain/ids.ts"
import { namespaceFor } from "../domain/names.ts"

type RandomBytes = (n: number) => Uint8Array

const make = (random: RandomBytes) => ({
  accountId: Effect.sync(() => formatId("account", random)),
  projectId: Effect.sync(() => formatId("project", random)),
  namespace: (projectName: string) => Effect.sync(() => namespaceFor(projectName, random)),
  /** 40 characters of base62: ~238 bits, shown once and stored only as a hash. */
  apiKey: Effect.sync(() => `fab_${randomChars(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", random)}`),
})

/** Ids, namespace suffixes and secrets: randomness behind a service so tests can fix it. */
export class Ids extends Context.Service<Ids, ReturnType<typeof make>>()("fabric/Ids") {
  static readonly layer = Layer.succeed(Ids, Ids.of(make((n) => crypto.getRandomValues(new Uint8Array(n)))))

}
