import { test } from "uvu"
import * as assert from "uvu/assert"
import { ConfigError } from "../../src/processes/config-error.ts"
import { parseConfig } from "../../src/processes/config.ts"
import { databaseTls, describeConnectError } from "./connection.ts"

const base = "postgres://fabric:pw@db.internal:5432/fabric"

test("no sslmode: no TLS, the URL untouched (postgres.js's default)", () => {
  assert.equal(databaseTls(base), { url: base, mode: undefined, rootCertFile: undefined, host: "db.internal" })
})

test("sslmode and sslrootcert are taken out of the URL (postgres.js would send sslrootcert to the server as a setting); other parameters stay", () => {
  const tls = databaseTls(`${base}?application_name=x&sslmode=verify-full&sslrootcert=/etc/fabric/database/ca.crt`)
  assert.equal(tls, { url: `${base}?application_name=x`, mode: "verify-full", rootCertFile: "/etc/fabric/database/ca.crt", host: "db.internal" })
  for (const mode of ["disable", "require", "verify-ca"] as const) assert.is(databaseTls(`${base}?sslmode=${mode}`).mode, mode)
})

test("libpq's meanings: require with a CA file verifies the CA; sslrootcert=system is the system's CAs and verify-full", () => {
  assert.equal(databaseTls(`${base}?sslmode=require&sslrootcert=/ca.crt`).mode, "verify-ca")
  assert.equal(databaseTls(`${base}?sslmode=verify-ca&sslrootcert=system`), { url: base, mode: "verify-full", rootCertFile: undefined, host: "db.internal" })
  assert.is(databaseTls("postgres://u:p@[::1]:5432/db?sslmode=verify-full").host, "::1")
})

test("what cannot be honoured is refused, with the reason", () => {
  const cases: Array<[string, RegExp]> = [
    [`${base}?sslmode=prefer`, /sslmode=prefer is not supported: it falls back to an unencrypted connection/],
    [`${base}?sslmode=allow`, /sslmode=allow is not supported/],
    [`${base}?sslmode=verify_full`, /sslmode=verify_full is not one of disable, require, verify-ca, verify-full/],
    [`${base}?sslrootcert=/ca.crt`, /sslrootcert is set but sslmode is not/],
    [`${base}?sslmode=disable&sslrootcert=/ca.crt`, /sslrootcert is set but sslmode is disable/],
    [`${base}?sslmode=verify-full&sslcert=/c.crt&sslkey=/c.key`, /sslcert is not supported/],
    ["postgres://u:p@db-1:5432,db-2:5432/fabric?sslmode=verify-full", /verify-full takes one host/],
  ]
  for (const [url, message] of cases) assert.throws(() => databaseTls(url), message, url)
})

test("DATABASE_URL: a refused TLS parameter or a missing CA file stops the start, naming DATABASE_URL", () => {
  assert.throws(() => parseConfig({ DATABASE_URL: `${base}?sslmode=prefer` }), (e: unknown) => e instanceof ConfigError && e.message.startsWith("DATABASE_URL: sslmode=prefer"))
  assert.throws(() => parseConfig({ DATABASE_URL: `${base}?sslmode=verify-full&sslrootcert=/nonexistent/ca.crt` }),
    (e: unknown) => e instanceof ConfigError && e.message === "DATABASE_URL: sslrootcert=/nonexistent/ca.crt: no such file")
  assert.is(parseConfig({ DATABASE_URL: `${base}?sslmode=require` }).databaseUrl, `${base}?sslmode=require`)
})

test("a connection error keeps its code (the TLS reason)", () => {
  const e = Object.assign(new Error("unable to verify the first certificate"), { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" })
  assert.is(describeConnectError(e), "unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)")
  assert.is(describeConnectError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" })), "connect ECONNREFUSED 127.0.0.1:1")
})

test.run()
