import { Context, Effect, Layer } from "effect"
import { AccountId } from "../domain/account.ts"
import { formatId, randomChars } from "../domain/ids.ts"
import { namespaceFor, resourceNameFor } from "../domain/names.ts"
import { ProjectId } from "../domain/project.ts"
import { ResourceId } from "../domain/resource.ts"

type RandomBytes = (n: number) => Uint8Array

const make = (random: RandomBytes): Ids["Service"] => ({
  accountId: Effect.sync(() => AccountId.make(formatId("account", random))),
  projectId: Effect.sync(() => ProjectId.make(formatId("project", random))),
  namespace: (projectName: string) => Effect.sync(() => namespaceFor(projectName, random)),
  resourceId: Effect.sync(() => ResourceId.make(formatId("resource", random))),
  resourceName: (kind: string) => Effect.sync(() => resourceNameFor(kind, random)),
  apiKey: Effect.sync(() => `fab_${randomChars(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", random)}`),
})

/** Ids, namespace suffixes and secrets: randomness behind a service so tests can fix it. */
export class Ids extends Context.Service<Ids, {
  readonly accountId: Effect.Effect<AccountId>
  readonly projectId: Effect.Effect<ProjectId>
  /** `prj-<slug of the project name>-<6 random characters>`. */
  readonly namespace: (projectName: string) => Effect.Effect<string>
  readonly resourceId: Effect.Effect<ResourceId>
  /** `<kind in lowercase>-<6 random characters>`: a resource's name when the client gives none. */
  readonly resourceName: (kind: string) => Effect.Effect<string>
  /** 40 characters of base62: ~238 bits, shown once and stored only as a hash. */
  readonly apiKey: Effect.Effect<string>
}>()("fabric/Ids") {
  static readonly layer = Layer.succeed(Ids, Ids.of(make((n) => crypto.getRandomValues(new Uint8Array(n)))))
}
