// GET /debug (docs/api.md): the state-machine visualiser. Pages and scripts are public (they hold no
// data); everything that reads state is operator only (rpc/http/debug-session.ts says how a browser
// proves it is the operator).
//   GET  /debug                 the UI, or the login form without a session
//   POST /debug/login, /logout  start / end the session (form posts from this origin, then back
//                               to /debug); failed logins are throttled (rpc/http/login-throttle.ts)
//   GET  /debug/api/machines    the account, project and resource statecharts (machines/statechart.ts)
//   GET  /debug/api/actors      actors, most recently changed first
//   GET  /debug/api/actors/:id  one actor: state, context, event history
//   GET  /debug/events?actor=   the same, as SSE event `actor` at once and on every change
import { Schema } from "effect"
import { Hono, type Context } from "hono"
import { accountMachine } from "../../machines/account.ts"
import { projectMachine } from "../../machines/project.ts"
import { resourceMachine } from "../../machines/resource.ts"
import { statechartOf } from "../../machines/statechart.ts"
import { InvalidRequest } from "../../src/domain/errors.ts"
import { idPatterns } from "../../src/domain/ids.ts"
import { DebugReads } from "../../src/management/debug-reads.ts"
import { debugAssetResponse, isDebugAsset } from "../http/debug-assets.ts"
import { debugOperatorOnly, endSession, isOperatorRequest, isOperatorToken, now, startSession } from "../http/debug-session.ts"
import type { FabricEnv } from "../http/env.ts"
import { errorResponse } from "../http/errors.ts"
import { defaultLoginThrottle, makeLoginThrottle, type ThrottleOptions } from "../http/login-throttle.ts"
import { sameOriginOnly } from "../http/same-origin.ts"
import { validate } from "../http/validate.ts"
import { watchStream, type WatchOptions } from "../http/watch-stream.ts"

const historyLimit = 100
const actorListLimit = 500

const actorId = Schema.String.check(Schema.isPattern(
  new RegExp(`${idPatterns.account.source}|${idPatterns.project.source}|${idPatterns.resource.source}`),
  { message: "must be an account (acc_…), project (prj_…) or resource (res_…) id" },
))
const ActorIdParam = Schema.Struct({ actorId })
const ActorQuery = Schema.Struct({ actor: actorId })
const ActorsQuery = Schema.Struct({ machine: Schema.optional(Schema.Literals(["account", "project", "resource"])) })

// The account's input carries its API key hash; a debugging page has no use for it.
const withoutSecrets = <A>(value: A): A => JSON.parse(JSON.stringify(value, (key, v) => (key === "apiKeyHash" ? undefined : v)))

const machines = { account: statechartOf(accountMachine), project: statechartOf(projectMachine), resource: statechartOf(resourceMachine) }

const loginPage = (error?: string) =>
  debugAssetResponse("login.html", 401, (html) => html.replace("<!--error-->", error === undefined ? "" : `<p class="login-error" role="alert">${error}</p>`))

// A body parseBody cannot read (a multipart body without its boundary, say) is bad input.
const formOf = (c: Context<FabricEnv>) =>
  c.req.parseBody().catch(() => {
    throw new InvalidRequest({ message: "the login form's body is malformed", issues: [{ path: "body", message: "is not a readable form" }] })
  })

export interface DebugOptions {
  readonly operatorToken: string
  readonly watch: WatchOptions
  /** The client's address, for throttling failed logins (the runtime's connection info). */
  readonly clientAddress?: (c: Context) => string | undefined
  readonly loginThrottle?: ThrottleOptions
}

export const debug = (options: DebugOptions) => {
  const operatorOnly = debugOperatorOnly(options.operatorToken)
  const throttle = makeLoginThrottle(options.loginThrottle ?? defaultLoginThrottle)
  return new Hono<FabricEnv>()
    // Actors' state, sessions and pages: nothing here may sit in a cache.
    .use(async (c, next) => {
      await next()
      c.res.headers.set("cache-control", "no-store")
    })
    .get("/", async (c) => ((await isOperatorRequest(c, options.operatorToken)) ? debugAssetResponse("index.html") : loginPage()))
    .post("/login", sameOriginOnly, async (c) => {
      const address = options.clientAddress?.(c) ?? "unknown"
      const at = await now(c)
      const wait = throttle.retryAfter(address, at)
      if (wait !== undefined) {
        const refused = errorResponse(c, 429, "too_many_requests", `too many failed logins; try again in ${wait} seconds`)
        refused.headers.set("retry-after", String(wait))
        return refused
      }
      const form = await formOf(c)
      const token = typeof form.token === "string" ? form.token.trim() : ""
      if (!isOperatorToken(token, options.operatorToken)) {
        throttle.failed(address, at)
        return loginPage("That is not the operator token.")
      }
      await startSession(c, options.operatorToken)
      return c.redirect("/debug", 303)
    })
    .post("/logout", sameOriginOnly, async (c) => {
      await endSession(c, options.operatorToken)
      return c.redirect("/debug", 303)
    })
    .get("/:asset{[a-z]+\\.(?:js|css)}", (c) => {
      const name = c.req.param("asset")
      return isDebugAsset(name) ? debugAssetResponse(name) : c.notFound()
    })
    .get("/api/machines", operatorOnly, (c) => c.json(machines, 200))
    .get("/api/actors", operatorOnly, validate("query", ActorsQuery), async (c) => {
      const { machine } = c.req.valid("query")
      const actors = await c.var.run(DebugReads.use((d) => d.listActors({ ...(machine ? { machine } : {}), limit: actorListLimit })))
      return c.json({ actors }, 200)
    })
    .get("/api/actors/:actorId", operatorOnly, validate("param", ActorIdParam), async (c) => {
      const { actorId } = c.req.valid("param")
      const actor = await c.var.run(DebugReads.use((d) => d.actorDetail(actorId, historyLimit)))
      return c.json({ actor: withoutSecrets(actor) }, 200)
    })
    .get("/events", operatorOnly, validate("query", ActorQuery), async (c) => {
      const { actor: id } = c.req.valid("query")
      const run = c.var.run
      const read = async () => withoutSecrets(await run(DebugReads.use((d) => d.actorDetail(id, historyLimit))))
      // An unknown actor is a JSON 404 before the stream starts.
      const first = await read()
      // A finished actor (deleted project) changes no more: the stream ends with it.
      return watchStream(c, options.watch, { key: id, event: "actor", first, read, finished: (a) => a.status !== "active" })
    })
}
