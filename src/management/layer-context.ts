import { Effect } from "effect"

/**
 * The context a program's layer is built in, as a function that provides it to a method: the
 * actor host and the machines' steps read their services from the context as they run, so each
 * method brings them along and its callers need none.
 */
export const layerContext = <R>() =>
  Effect.map(Effect.context<R>(), (context) => <A, E>(effect: Effect.Effect<A, E, R>) => Effect.provideContext(effect, context))
