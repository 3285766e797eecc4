// /debug in a real headless Chromium (Debian's `chromium`, driven by playwright-core): log in
// with the operator token, pick a project, watch a state change arrive over SSE without a
// reload, and save docs/debug-ui.png for the README. Fabric runs in this process on the embedded
// layers, served on a real port. Without Chromium this suite FAILS (it is never skipped):
// `npm run infra:up` installs it (deploy/infra/infra.sh).
import { Deferred, Effect, Fiber } from "effect"
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { chromium, type BrowserContext, type Page } from "playwright-core"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { expectOk } from "../../rpc/client.ts"
import { serveHttp } from "../../src/processes/http.ts"
import { operatorToken, startFabric } from "../support/embedded-fabric.ts"

const chromiumPath = "/usr/bin/chromium"
const screenshotPath = new URL("../../docs/debug-ui.png", import.meta.url).pathname
const chromiumArgs = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

/** Serves the app on 127.0.0.1 on a free port until `close`, which ends open SSE streams first (as `fabric dev` does). */
const listen = async (fetch: (request: Request) => Response | Promise<Response>, streams: Set<{ close: () => void }>) => {
  const port = await Effect.runPromise(Deferred.make<number>())
  const fiber = Effect.runFork(Effect.scoped(Effect.gen(function* () {
    const served = yield* serveHttp(fetch, { port: 0, host: "127.0.0.1", streams, drainMs: 1_000 })
    yield* Deferred.succeed(port, served.port)
    return yield* Effect.never
  })))
  return { url: `http://127.0.0.1:${await Effect.runPromise(Deferred.await(port))}`, close: () => Effect.runPromise(Fiber.interrupt(fiber)) }
}

const isCurrent = (page: Page, stateId: string) =>
  page.locator(`[data-state-id="${stateId}"]`).evaluate((box) => box.classList.contains("current"))

const clusterPhase = (page: Page, clusterId: string) =>
  page.locator(`#clusters tr[data-cluster="${clusterId}"] .badge`).first().textContent()

test("the operator logs in, picks a project and sees it go from degraded to ready live", async () => {
  assert.ok(existsSync(chromiumPath), `Chromium is missing at ${chromiumPath}. This suite needs Debian's chromium package: run \`npm run infra:up\` (deploy/infra/infra.sh installs it when missing) or \`apt-get install -y chromium\` as root.`)

  // sim-b's apiserver is down at first: the project is Degraded until it comes back. A busy test
  // machine can delay heartbeats past the usual 1 s, and an Unreachable cluster would not hold
  // the project back from Ready: give them a minute.
  const fabric = await startFabric({ clusters: { "sim-a": {}, "sim-b": {}, "sim-c": { latencyMs: 300 } }, unreachableAfterMs: 60_000 })
  fabric.states.get("sim-b")!.failing = true
  const server = await listen(fabric.app.fetch, fabric.streams)
  const profile = mkdtempSync(join(tmpdir(), "fabric-debug-ui-chromium-"))
  let browser: BrowserContext | undefined
  try {
    const { account, project } = await expectOk(fabric.client.v1.accounts.$post({ json: { name: "Acme Corp", email: "ops@acme.test" } }))
    await fabric.waitForProject(project.id, (p) => p.phase === "Degraded")

    browser = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath, headless: true, args: chromiumArgs, viewport: { width: 1366, height: 768 },
    })
    const page = browser.pages()[0] ?? await browser.newPage()
    const requested: string[] = []
    const pageErrors: string[] = []
    page.on("request", (r) => requested.push(r.url()))
    page.on("pageerror", (e) => pageErrors.push(String(e)))

    // Without a session the page is the login form, and a wrong token is refused.
    const first = await page.goto(`${server.url}/debug`)
    assert.is(first?.status(), 401)
    await page.fill("#token", "not-the-token")
    await page.click("button[type=submit]")
    assert.match((await page.locator(".login-error").textContent()) ?? "", /not the operator token/)
    await page.fill("#token", operatorToken)
    await page.click("button[type=submit]")
    await page.waitForSelector('#chart [data-state-id="project.live.provisioning"]')
    // From here on nothing may fail in the page (the login form's own 401s are expected).
    page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()) })

    // The session cookie is out of reach of page scripts and other sites, and scoped to /debug.
    const session = (await browser.cookies()).find((c) => c.name === "fabric_debug_session")
    assert.ok(session, "no session cookie was set")
    assert.is(session!.httpOnly, true)
    assert.is(session!.sameSite, "Strict")
    assert.is(session!.path, "/debug")
    assert.not.match(session!.value, operatorToken)
    assert.is(await page.evaluate(() => document.cookie), "")

    // The project chart comes from the machine: every state of it is drawn.
    for (const id of ["project.creating", "project.live", "project.live.ready", "project.live.degraded", "project.deleting.waiting", "project.finalizing", "project.deleted"]) {
      assert.is(await page.locator(`#chart [data-state-id="${id}"]`).count(), 1, `state ${id} not drawn`)
    }
    assert.ok(await page.locator("#chart svg path.arrow").count() >= 8, "transition arrows missing")

    // Pick the project from the list: its current state is highlighted, sim-b shows its failure.
    await page.click(`#project-list [data-actor-id="${project.id}"]`)
    await page.waitForFunction(() => document.querySelector('[data-state-id="project.live.degraded"]')?.classList.contains("current"))
    assert.ok(await isCurrent(page, "project.live"), "the compound state around the current one is highlighted too")
    assert.not.ok(await isCurrent(page, "project.live.ready"))
    assert.is(await clusterPhase(page, "sim-b"), "Failed")
    assert.match((await page.locator('#clusters tr[data-cluster="sim-b"] .reason').textContent()) ?? "", /outage/)
    assert.match((await page.locator("#history tbody").textContent()) ?? "", /created/)
    assert.match((await page.locator("#connection").textContent()) ?? "", /live/)

    // sim-b recovers; the change must reach this very page (no reload) through the stream.
    await page.evaluate(() => { (window as unknown as { samePage: boolean }).samePage = true })
    const historyBefore = await page.locator("#history tbody tr").count()
    fabric.states.get("sim-b")!.failing = false
    await page.waitForFunction(() => document.querySelector('[data-state-id="project.live.ready"]')?.classList.contains("current"), undefined, { timeout: 15_000 })
    assert.not.ok(await isCurrent(page, "project.live.degraded"))
    assert.is(await clusterPhase(page, "sim-b"), "Ready")
    assert.ok(await page.locator("#history tbody tr").count() > historyBefore, "the new event is in the history")
    assert.is(await page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage), true, "the page was reloaded")
    assert.is(requested.filter((u) => u.includes("/debug/events?actor=")).length, 1, "one stream carried the change")

    // The account link opens the account: its chart replaces the project's.
    await page.click(`#actor-summary a[href="#${account.id}"]`)
    await page.waitForFunction(() => document.querySelector('[data-state-id="account.active"]')?.classList.contains("current"))
    assert.is(await page.locator("#chart-title").textContent(), "account statechart")
    assert.not.match((await page.locator("#actor-summary").textContent()) ?? "", /apiKeyHash/)

    // Back on the project, a 1366x768 laptop screen shows the whole chart without scrolling.
    await page.click(`#project-list [data-actor-id="${project.id}"]`)
    await page.waitForFunction(() => document.querySelector('[data-state-id="project.live.ready"]')?.classList.contains("current"))
    const fits = await page.evaluate(() => {
      const deleted = document.querySelector('[data-state-id="project.deleted"]')!.getBoundingClientRect()
      return document.documentElement.scrollWidth <= window.innerWidth && deleted.right <= window.innerWidth && deleted.bottom <= window.innerHeight
    })
    assert.ok(fits, "the chart does not fit a 1366x768 screen")

    // Everything came from Fabric itself: no CDN, no other origin.
    const foreign = requested.filter((u) => new URL(u).origin !== server.url)
    assert.equal(foreign, [], `requests to other origins: ${foreign.join(", ")}`)
    assert.equal(pageErrors, [])

    await page.setViewportSize({ width: 1440, height: 900 })
    await page.waitForTimeout(300) // the chart re-lays itself out for the new width
    mkdirSync(dirname(screenshotPath), { recursive: true })
    await page.screenshot({ path: screenshotPath })
  } finally {
    await server.close()
    await browser?.close()
    await fabric.stop()
    rmSync(profile, { recursive: true, force: true })
  }
})

test.run()
