import { Hono } from "hono"
import { Accounts } from "../../src/management/accounts.ts"
import { Projects } from "../../src/management/projects.ts"
import { idempotencyOf, operatorOnly } from "../http/auth.ts"
import type { Cursors } from "../http/cursor.ts"
import type { FabricEnv } from "../http/env.ts"
import { AccountIdParam, CreateAccountBody, CreateProjectBody, ListProjectsQuery } from "../http/schemas.ts"
import { validate } from "../http/validate.ts"

export const accounts = (cursors: Cursors) => new Hono<FabricEnv>()
  .post("/", operatorOnly, validate("json", CreateAccountBody), async (c) => {
    const body = c.req.valid("json")
    const idempotency = await idempotencyOf(c.req.header("idempotency-key"), body)
    const created = await c.var.run(Accounts.use((a) => a.createAccount(body, idempotency)))
    return c.json(created, 201)
  })
  .get("/:accountId", validate("param", AccountIdParam), async (c) => {
    const { accountId } = c.req.valid("param")
    const account = await c.var.run(Accounts.use((a) => a.getAccount(c.var.caller, accountId)))
    return c.json({ account }, 200)
  })
  .post("/:accountId/projects", validate("param", AccountIdParam), validate("json", CreateProjectBody), async (c) => {
    const { accountId } = c.req.valid("param")
    const body = c.req.valid("json")
    const idempotency = await idempotencyOf(c.req.header("idempotency-key"), body)
    const project = await c.var.run(Projects.use((p) => p.createProject(c.var.caller, accountId, body, idempotency)))
    return c.json({ project }, 201)
  })
  .get("/:accountId/projects", validate("param", AccountIdParam), validate("query", ListProjectsQuery), async (c) => {
    const { accountId } = c.req.valid("param")
    const query = c.req.valid("query")
    // A cursor this API did not sign for this account is refused before anything is read.
    const cursor = query.cursor === undefined ? undefined : await cursors.open(accountId, query.cursor)
    const page = await c.var.run(Projects.use((p) =>
      p.listProjects(c.var.caller, accountId, { limit: Number(query.limit ?? 20), cursor })))
    const nextCursor = page.nextCursor === null ? null : await cursors.seal(accountId, page.nextCursor)
    return c.json({ projects: page.items, nextCursor }, 200)
  })
