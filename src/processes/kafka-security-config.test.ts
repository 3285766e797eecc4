import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { test } from "uvu"
import * as assert from "uvu/assert"
import { ConfigError } from "./config-error.ts"
import { parseConfig } from "./config.ts"

const dir = mkdtempSync(join(tmpdir(), "fabric-kafka-security-"))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}
const pem = (label: string) => `-----BEGIN ${label}-----\nMIIB\n-----END ${label}-----\n`
const ca = file("ca.crt", pem("CERTIFICATE"))
const cert = file("client.crt", pem("CERTIFICATE"))
const key = file("client.key", pem("PRIVATE KEY"))
const brokers = { KAFKA_BROKERS: "kafka-0:9093" }
const scram = { ...brokers, FABRIC_KAFKA_SASL_MECHANISM: "scram-sha-256", FABRIC_KAFKA_SASL_USERNAME: "fabric-daemon-eu-1" }

test("nothing set: no SASL, no TLS (plaintext, as before)", () => {
  const c = parseConfig(brokers)
  assert.is(c.kafkaSasl, undefined)
  assert.is(c.kafkaTls, undefined)
  assert.is(parseConfig({}).kafkaTls, undefined)
})

test("SCRAM with the password in the environment, or in a file (a mounted Secret: one trailing newline is not part of it)", () => {
  assert.equal(parseConfig({ ...scram, FABRIC_KAFKA_SASL_PASSWORD: "s3cret" }).kafkaSasl, { mechanism: "scram-sha-256", username: "fabric-daemon-eu-1", password: "s3cret" })
  const secret = file("password", "from a file \n")
  assert.equal(parseConfig({ ...scram, FABRIC_KAFKA_SASL_MECHANISM: "scram-sha-512", FABRIC_KAFKA_SASL_PASSWORD_FILE: secret }).kafkaSasl, {
    mechanism: "scram-sha-512", username: "fabric-daemon-eu-1", password: "from a file ",
  })
  assert.is(parseConfig({ ...scram, FABRIC_KAFKA_SASL_PASSWORD_FILE: file("crlf", "pw\r\n") }).kafkaSasl!.password, "pw")
})

test("TLS: the system's CAs by default; a CA file, a client certificate and a server name when set (PEM contents, read at start)", () => {
  assert.equal(parseConfig({ ...brokers, FABRIC_KAFKA_TLS: "1" }).kafkaTls, { ca: undefined, cert: undefined, key: undefined, serverName: undefined })
  const tls = parseConfig({
    ...brokers, FABRIC_KAFKA_TLS: "1", FABRIC_KAFKA_TLS_CA_FILE: ca, FABRIC_KAFKA_TLS_CERT_FILE: cert, FABRIC_KAFKA_TLS_KEY_FILE: key,
    FABRIC_KAFKA_TLS_SERVER_NAME: "kafka.internal.example.com",
  }).kafkaTls!
  assert.equal(tls, { ca: pem("CERTIFICATE"), cert: pem("CERTIFICATE"), key: pem("PRIVATE KEY"), serverName: "kafka.internal.example.com" })
  assert.is(parseConfig({ ...brokers, FABRIC_KAFKA_TLS: "0" }).kafkaTls, undefined)
})

test("a bad combination stops the start with a message naming the settings", () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ ...brokers, FABRIC_KAFKA_SASL_MECHANISM: "plain", FABRIC_KAFKA_SASL_USERNAME: "u", FABRIC_KAFKA_SASL_PASSWORD: "p" }, /FABRIC_KAFKA_SASL_MECHANISM=plain: Fabric speaks scram-sha-256 and scram-sha-512/],
    [{ ...brokers, FABRIC_KAFKA_SASL_MECHANISM: "SCRAM-SHA-256", FABRIC_KAFKA_SASL_USERNAME: "u", FABRIC_KAFKA_SASL_PASSWORD: "p" }, /FABRIC_KAFKA_SASL_MECHANISM=SCRAM-SHA-256/],
    [{ ...brokers, FABRIC_KAFKA_SASL_MECHANISM: "scram-sha-512", FABRIC_KAFKA_SASL_PASSWORD: "p" }, /needs FABRIC_KAFKA_SASL_USERNAME/],
    [{ ...scram }, /needs FABRIC_KAFKA_SASL_PASSWORD or FABRIC_KAFKA_SASL_PASSWORD_FILE/],
    [{ ...scram, FABRIC_KAFKA_SASL_PASSWORD: "p", FABRIC_KAFKA_SASL_PASSWORD_FILE: ca }, /FABRIC_KAFKA_SASL_PASSWORD or FABRIC_KAFKA_SASL_PASSWORD_FILE, not both/],
    [{ ...brokers, FABRIC_KAFKA_SASL_USERNAME: "u", FABRIC_KAFKA_SASL_PASSWORD: "p" }, /FABRIC_KAFKA_SASL_USERNAME and FABRIC_KAFKA_SASL_PASSWORD set without FABRIC_KAFKA_SASL_MECHANISM/],
    [{ ...scram, FABRIC_KAFKA_SASL_PASSWORD_FILE: join(dir, "missing") }, /FABRIC_KAFKA_SASL_PASSWORD_FILE=.*missing: cannot read it \(ENOENT\)/],
    [{ ...scram, FABRIC_KAFKA_SASL_PASSWORD_FILE: file("empty", "\n") }, /FABRIC_KAFKA_SASL_PASSWORD_FILE=.*empty is empty/],
    [{ ...brokers, FABRIC_KAFKA_TLS_CA_FILE: ca }, /FABRIC_KAFKA_TLS_CA_FILE set but FABRIC_KAFKA_TLS is not 1/],
    [{ ...brokers, FABRIC_KAFKA_TLS: "0", FABRIC_KAFKA_TLS_SERVER_NAME: "k" }, /FABRIC_KAFKA_TLS_SERVER_NAME set but FABRIC_KAFKA_TLS is not 1/],
    [{ ...brokers, FABRIC_KAFKA_TLS: "yes" }, /FABRIC_KAFKA_TLS=yes must be 1 \(on\) or 0 \(off\)/],
    [{ ...brokers, FABRIC_KAFKA_TLS: "1", FABRIC_KAFKA_TLS_CERT_FILE: cert }, /FABRIC_KAFKA_TLS_CERT_FILE and FABRIC_KAFKA_TLS_KEY_FILE go together/],
    [{ ...brokers, FABRIC_KAFKA_TLS: "1", FABRIC_KAFKA_TLS_CA_FILE: file("not-pem", "hello") }, /FABRIC_KAFKA_TLS_CA_FILE=.*not-pem is not a PEM file/],
    [{ ...brokers, FABRIC_KAFKA_TLS: "1", FABRIC_KAFKA_TLS_SERVER_NAME: "10.0.0.1" }, /FABRIC_KAFKA_TLS_SERVER_NAME=10.0.0.1 is not a DNS name/],
    [{ FABRIC_KAFKA_TLS: "1" }, /Kafka credentials or TLS are set but KAFKA_BROKERS is not/],
  ]
  for (const [env, message] of cases) {
    assert.throws(() => parseConfig(env), (e: unknown) => e instanceof ConfigError && message.test(e.message), `${JSON.stringify(env)} -> ${message}`)
  }
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

test.run()
