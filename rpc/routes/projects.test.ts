// /v1/projects/:projectId over HTTP, on stand-in management services: what the boundary refuses
// (400 before any management call), 405 for other methods, and a request its client abandons.
import { Effect } from "effect"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { stubApp } from "../../tests/support/stub-app.ts"

const projectId = "prj_abcdefghijklmnopqrst"
let deletions = 0
const fabric = stubApp({
  getProject: (_caller: unknown, id: string) => Effect.succeed({ id, name: "web", phase: "Ready" }),
  // A deletion that never answers (a database far away): its client gives up first.
  deleteProject: () => Effect.sync(() => deletions++).pipe(Effect.andThen(Effect.never)),
})
test.after(() => fabric.dispose())

for (const [name, path] of [["an id of another kind", "/v1/projects/acc_abcdefghijklmnopqrst"], ["an id too short", "/v1/projects/prj_abc"]]) {
  test(`${name}: 400 naming param.projectId, no management call`, async () => {
    const before = fabric.work().length
    const response = await fabric.request(path!)
    const json = (await response.json()) as any
    assert.is(response.status, 400, JSON.stringify(json))
    assert.ok(json.error.issues.some((i: { path: string }) => i.path === "param.projectId"), JSON.stringify(json.error.issues))
    assert.is(fabric.work().length, before)
  })
}

test("a project is answered with the management's read", async () => {
  const response = await fabric.request(`/v1/projects/${projectId}`)
  assert.is(response.status, 200)
  assert.equal(((await response.json()) as any).project, { id: projectId, name: "web", phase: "Ready" })
})

test("PUT: 405", async () => {
  const response = await fabric.request(`/v1/projects/${projectId}`, { method: "PUT" })
  assert.is(response.status, 405)
})

test("a deletion whose client goes away is 499 (not a 500, nothing logged as unhandled): its fiber is interrupted", async () => {
  const unhandled: string[] = []
  const consoleError = console.error
  console.error = (...args: unknown[]) => void unhandled.push(args.map(String).join(" "))
  try {
    const client = new AbortController()
    const answer = fabric.request(`/v1/projects/${projectId}`, { method: "DELETE", signal: client.signal })
    while (deletions === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    client.abort()
    const response = await answer
    assert.is(response.status, 499)
    assert.equal(unhandled, [])
  } finally {
    console.error = consoleError
  }
})

test.run()
