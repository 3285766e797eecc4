// /debug over HTTP: who gets in (login form, session cookie, bearer token), what the data
// endpoints answer, and that the page's files come with their content types. The page itself
// runs in Chromium in tests/e2e/debug-ui.browser.real.test.ts.
import { suite } from "uvu"
import * as assert from "uvu/assert"
import { operatorToken, startFabric, type TestFabric } from "../../tests/support/embedded-fabric.ts"

const debug = suite<{ fabric: TestFabric; accountId: string; projectId: string; apiKey: string }>("GET /debug")

debug.before(async (ctx) => {
  ctx.fabric = await startFabric()
  const created = await ctx.fabric.request("POST", "/v1/accounts", { body: { name: "Acme Corp", email: "ops@acme.test" } })
  assert.is(created.status, 201, created.text)
  ctx.accountId = created.json.account.id
  ctx.projectId = created.json.project.id
  ctx.apiKey = created.json.apiKey
})
debug.after(async (ctx) => ctx.fabric.stop())

const login = (fabric: TestFabric, token: string) =>
  fabric.app.request("/debug/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }).toString(),
  })

/** The `name=value` part of the session cookie a successful login sets. */
const sessionCookie = async (fabric: TestFabric) => {
  const response = await login(fabric, operatorToken)
  return (response.headers.get("set-cookie") ?? "").split(";")[0]!
}

const withCookie = (fabric: TestFabric, path: string, cookie: string) => fabric.app.request(path, { headers: { cookie } })

debug("without a session, /debug is the login form and every data endpoint answers 401", async ({ fabric, projectId }) => {
  const page = await fabric.app.request("/debug")
  assert.is(page.status, 401)
  assert.match(await page.text(), /name="token"/)
  for (const path of ["/debug/api/machines", "/debug/api/actors", `/debug/api/actors/${projectId}`, `/debug/events?actor=${projectId}`]) {
    const r = await fabric.request("GET", path, { token: null })
    assert.is(r.status, 401, path)
    assert.is(r.json.error.code, "unauthorized", path)
  }
})

debug("a wrong token is refused without a cookie", async ({ fabric }) => {
  const response = await login(fabric, "not-the-operator-token")
  assert.is(response.status, 401)
  assert.is(response.headers.get("set-cookie"), null)
  assert.match(await response.text(), /not the operator token/)
})

debug("the operator token sets an HttpOnly, SameSite=Strict cookie for /debug that does not contain the token", async ({ fabric, accountId }) => {
  const response = await login(fabric, operatorToken)
  assert.is(response.status, 303)
  assert.is(response.headers.get("location"), "/debug")
  const setCookie = response.headers.get("set-cookie") ?? ""
  assert.match(setCookie, /^fabric_debug_session=/)
  assert.match(setCookie, /; HttpOnly/)
  assert.match(setCookie, /; SameSite=Strict/)
  assert.match(setCookie, /; Path=\/debug(;|$)/)
  assert.not.match(setCookie, operatorToken)

  const cookie = setCookie.split(";")[0]!
  const page = await withCookie(fabric, "/debug", cookie)
  assert.is(page.status, 200)
  assert.match(await page.text(), /src="\/debug\/app\.js"/)
  const actors = await withCookie(fabric, "/debug/api/actors", cookie)
  assert.is(actors.status, 200)
  const listed = ((await actors.json()) as { actors: { actorId: string; machine: string }[] }).actors
  assert.ok(listed.some((a) => a.actorId === accountId && a.machine === "account"), JSON.stringify(listed))
})

debug("a cookie whose expiry was altered is refused", async ({ fabric }) => {
  const cookie = await sessionCookie(fabric)
  const [name, value] = cookie.split("=") as [string, string]
  const [session, signature] = decodeURIComponent(value).split(".") as [string, string]
  const [id, expiresAt] = session.split("_") as [string, string]
  const later = encodeURIComponent(`${id}_${Number(expiresAt) + 365 * 24 * 3600 * 1000}.${signature}`)
  const r = await withCookie(fabric, "/debug/api/actors", `${name}=${later}`)
  assert.is(r.status, 401)
})

debug("logging out expires the cookie and ends the session on the server: a copy of the cookie is refused", async ({ fabric }) => {
  const cookie = await sessionCookie(fabric)
  const other = await sessionCookie(fabric)
  assert.is((await withCookie(fabric, "/debug/api/machines", cookie)).status, 200)
  const response = await fabric.app.request("/debug/logout", { method: "POST", headers: { cookie } })
  assert.is(response.status, 303)
  assert.match(response.headers.get("set-cookie") ?? "", /^fabric_debug_session=; Max-Age=0/)
  assert.is((await withCookie(fabric, "/debug/api/machines", cookie)).status, 401)
  assert.is((await withCookie(fabric, "/debug", cookie)).status, 401)
  // Another browser's session goes on.
  assert.is((await withCookie(fabric, "/debug/api/machines", other)).status, 200)
  const revoked = await fabric.sql("select session_id, expires_at from fabric.debug_session_revocations")
  assert.is(revoked.length, 1)
  assert.ok(decodeURIComponent(cookie).includes(revoked[0].session_id))
})

debug("the operator's bearer token works without a cookie; an account's API key is 403", async ({ fabric, apiKey }) => {
  assert.is((await fabric.request("GET", "/debug/api/actors")).status, 200)
  const r = await fabric.request("GET", "/debug/api/actors", { token: apiKey })
  assert.is(r.status, 403)
  assert.is(r.json.error.code, "forbidden")
})

debug("an actor's detail has its state, clusters and history, and no API key hash", async ({ fabric, accountId, projectId }) => {
  await fabric.waitForProject(projectId, (p) => p.phase === "Ready")
  const project = await fabric.request("GET", `/debug/api/actors/${projectId}`)
  assert.is(project.status, 200, project.text)
  assert.equal(project.json.actor.value, { live: "ready" })
  assert.equal(Object.keys(project.json.actor.context.clusters).sort(), ["sim-a", "sim-b", "sim-c"])
  assert.is(project.json.actor.history.at(-1).event.type, "created")
  const account = await fabric.request("GET", `/debug/api/actors/${accountId}`)
  assert.is(account.json.actor.value, "active")
  assert.not.match(account.text, /apiKeyHash/)
})

debug("an unknown actor is 404 and a malformed id 400, before any stream starts", async ({ fabric }) => {
  const unknown = await fabric.request("GET", "/debug/events?actor=prj_aaaaaaaaaaaaaaaaaaaa")
  assert.is(unknown.status, 404)
  assert.is(unknown.json.error.code, "not_found")
  const malformed = await fabric.request("GET", "/debug/api/actors/not-an-id")
  assert.is(malformed.status, 400)
})

debug("the event stream sends the actor at once", async ({ fabric, projectId }) => {
  const abort = new AbortController()
  const response = await fabric.app.request(`/debug/events?actor=${projectId}`, { headers: { authorization: `Bearer ${operatorToken}` }, signal: abort.signal })
  assert.is(response.status, 200)
  assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/)
  const reader = response.body!.getReader()
  let text = ""
  while (!text.includes("\n\n")) text += new TextDecoder().decode((await reader.read()).value)
  abort.abort()
  await reader.cancel()
  assert.match(text, /^event: actor\ndata: /)
  assert.is(JSON.parse(text.slice(text.indexOf("data: ") + 6, text.indexOf("\n\n"))).actorId, projectId)
})

debug("the page's files are served with their content types and a same-origin-only policy", async ({ fabric }) => {
  for (const [path, type] of [["/debug/app.js", "text/javascript"], ["/debug/chart.js", "text/javascript"], ["/debug/style.css", "text/css"]] as const) {
    const r = await fabric.app.request(path)
    assert.is(r.status, 200, path)
    assert.match(r.headers.get("content-type") ?? "", type)
    assert.match(r.headers.get("content-security-policy") ?? "", /script-src 'self'/)
  }
  assert.is((await fabric.app.request("/debug/secrets.js")).status, 404)
  assert.equal((await fabric.request("GET", "/debug/api/machines")).json.project.states.map((s: { key: string }) => s.key), ["creating", "rejected", "live", "deleting", "finalizing", "deleted"])
})

debug("a resource is an actor too: its statechart, in the list, its detail with its per-cluster status and history", async ({ fabric, projectId }) => {
  const machines = (await fabric.request("GET", "/debug/api/machines")).json
  assert.equal(machines.resource.states.map((s: { key: string }) => s.key), ["creating", "rejected", "live", "updating", "deleting", "finalizing", "deleted"])
  const created = await fabric.request("POST", `/v1/projects/${projectId}/resources`, { body: { kind: "KupoPort", spec: { network: "preview", pruneUtxo: false } } })
  assert.is(created.status, 201, created.text)
  const resourceId = created.json.resource.id as string
  const listed = (await fabric.request("GET", "/debug/api/actors?machine=resource")).json.actors
  assert.equal(listed.map((a: { actorId: string }) => a.actorId), [resourceId])
  const detail = (await fabric.request("GET", `/debug/api/actors/${resourceId}`)).json.actor
  assert.is(detail.machine, "resource")
  assert.equal(Object.keys(detail.context.clusters).sort(), ["sim-a", "sim-b", "sim-c"])
  assert.is(detail.history.at(-1).event.type, "created")
})

debug.run()
