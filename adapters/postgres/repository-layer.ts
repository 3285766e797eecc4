// The one place where a Postgres table family's repository functions become a service: each
// method runs on the current transaction if there is one (else the pool), in a span named
// `<Service>.<method>`, and a driver error the domain does not handle becomes Unavailable.
import { Effect, Layer, type Context } from "effect"
import { Database, unavailable, type DatabaseError } from "./database.ts"

/** For each method of a service, the repository function behind it: same arguments and answer, over the Database, failing with DatabaseError too. */
export type Repository<Shape> = {
  readonly [Method in keyof Shape]: Shape[Method] extends (...args: infer Args) => Effect.Effect<infer A, infer E, never>
    ? (...args: Args) => Effect.Effect<A, E | DatabaseError, Database>
    : never
}

const isDatabaseError = (e: unknown): e is DatabaseError => (e as { _tag?: string } | undefined)?._tag === "DatabaseError"

export const repositoryLayer = <Self, Shape>(service: Context.Service<Self, Shape>, repository: Repository<Shape>): Layer.Layer<Self, never, Database> =>
  Layer.effect(
    service,
    Effect.gen(function* () {
      const database = yield* Database
      const serviceName = service.key.slice(service.key.lastIndexOf("/") + 1)
      const methods = Object.fromEntries(Object.entries(repository).map(([method, f]) => [
        method,
        (...args: ReadonlyArray<unknown>) =>
          (f as (...args: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown, Database>)(...args).pipe(
            Effect.catchIf(isDatabaseError, (e) => Effect.fail(unavailable(e))),
            Effect.provideService(Database, database),
            Effect.withSpan(`${serviceName}.${method}`),
          ),
      ]))
      return service.of(methods as Shape)
    }),
  )
