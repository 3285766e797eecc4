// FABRIC_STATELY_INSPECT=1 (off by default): the actors the host runs report to Stately's
// inspector. A Node process has no browser window for `createBrowserInspector`, so this starts the
// package's bridge server (@statelyai/inspect/server) on http://localhost:4242 and connects a
// WebSocket inspector to it; open that page in a browser (it embeds https://stately.ai/inspect).
// For development only: the bridge listens on every interface (the package offers no host option)
// and relays contexts and events, from which API key hashes are stripped. An actor lives only
// while one event is applied (machines/host.ts), so each event shows up as a short-lived actor.
import { Effect, Layer } from "effect"
import { ActorInspection } from "../services/actor-inspection.ts"

/** Not 8080: that is Fabric's own default port, and the package's. */
const statelyInspectorPort = 4242

// API key hashes ride in the account's context, in its input and in its steps' input: the key is
// dropped wherever it appears. Cycles (actor references) are cut instead of failing.
const withoutSecrets = <E>(event: E): E => {
  const ancestors: object[] = []
  return JSON.parse(JSON.stringify(event, function (this: object, key: string, value: unknown) {
    while (ancestors.length > 0 && ancestors.at(-1) !== this) ancestors.pop()
    if (key === "apiKeyHash") return undefined
    if (typeof value === "object" && value !== null) {
      if (ancestors.includes(value)) return undefined
      ancestors.push(value)
    }
    return value
  }))
}

export const statelyInspectLayer = (enabled: boolean, port = statelyInspectorPort) =>
  enabled
    ? Layer.effect(ActorInspection, Effect.acquireRelease(
        // Imported only when enabled: the package brings a WebSocket client and server with it.
        Effect.promise(async () => {
          const [{ createWebSocketInspector }, { createInspectorServer }] = await Promise.all([
            import("@statelyai/inspect"), import("@statelyai/inspect/server"),
          ])
          const server = createInspectorServer({ port, autoOpen: false })
          const inspector = createWebSocketInspector({ url: `ws://localhost:${port}`, serialize: withoutSecrets })
          return { server, inspector }
        }),
        ({ server, inspector }) => Effect.sync(() => { inspector.stop(); server.stop() }),
      ).pipe(
        Effect.tap(() => Effect.logInfo("Stately inspector: open it in a browser", { url: `http://localhost:${port}` })),
        Effect.map(({ inspector }) => inspector.inspect),
      ))
    : Layer.empty
