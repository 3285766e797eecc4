// A known path asked with a method it does not serve: 405 with `Allow` (Hono's methodNotAllowed
// finds the path's methods in the app's routes; GET brings HEAD, which Hono answers from GET),
// and OPTIONS answers 204 with the same `Allow`. An unknown path stays 404.
import type { Hono } from "hono"
import { methodNotAllowed as honoMethodNotAllowed } from "hono/method-not-allowed"
import type { FabricEnv } from "./env.ts"
import { errorResponse } from "./errors.ts"

export const methodNotAllowed = (app: Hono<FabricEnv, any, any>) =>
  honoMethodNotAllowed<FabricEnv>({
    app,
    onMethodNotAllowed: (c, methods) => {
      if (c.req.method === "OPTIONS") return c.body(null, 204, { allow: [...methods, "OPTIONS"].join(", ") })
      const response = errorResponse(c, 405, "method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}; allowed: ${methods.join(", ")}`)
      response.headers.set("allow", methods.join(", "))
      return response
    },
  })
