// Kafka credentials and TLS, from the environment (parsed with the rest of the configuration,
// src/processes/config.ts). Files (a mounted Kubernetes Secret: password, CA, client certificate)
// are read here, once, at start: a missing or empty one stops the process with its setting's name.
import { readFileSync } from "node:fs"
import { isIP } from "node:net"
import { Schema } from "effect"
import type { KafkaSasl, KafkaSaslMechanism, KafkaTls } from "../../adapters/kafka/config.ts"
import { ConfigError } from "./config-error.ts"
import { flag, type Env } from "./env-settings.ts"

export interface KafkaSecurity {
  readonly sasl: KafkaSasl | undefined
  readonly tls: KafkaTls | undefined
}

const mechanisms = ["scram-sha-256", "scram-sha-512"] as const satisfies ReadonlyArray<KafkaSaslMechanism>
const isMechanism = Schema.is(Schema.Literals(mechanisms))

const set = (env: Env, name: string): string | undefined => (env[name] === undefined || env[name] === "" ? undefined : env[name])

const readSetting = (name: string, path: string): string => {
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (e) {
    throw new ConfigError(`${name}=${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`)
  }
  if (text.trim() === "") throw new ConfigError(`${name}=${path} is empty`)
  return text
}

const pem = (env: Env, name: string): string | undefined => {
  const path = set(env, name)
  if (path === undefined) return undefined
  const text = readSetting(name, path)
  if (!text.includes("-----BEGIN ")) throw new ConfigError(`${name}=${path} is not a PEM file (no -----BEGIN line)`)
  return text
}

const parseSasl = (env: Env): KafkaSasl | undefined => {
  const mechanism = set(env, "FABRIC_KAFKA_SASL_MECHANISM")
  const username = set(env, "FABRIC_KAFKA_SASL_USERNAME")
  const password = set(env, "FABRIC_KAFKA_SASL_PASSWORD")
  const passwordFile = set(env, "FABRIC_KAFKA_SASL_PASSWORD_FILE")
  if (mechanism === undefined) {
    const stray = [["FABRIC_KAFKA_SASL_USERNAME", username], ["FABRIC_KAFKA_SASL_PASSWORD", password], ["FABRIC_KAFKA_SASL_PASSWORD_FILE", passwordFile]]
      .filter(([, v]) => v !== undefined).map(([n]) => n)
    if (stray.length > 0) throw new ConfigError(`${stray.join(" and ")} set without FABRIC_KAFKA_SASL_MECHANISM (${mechanisms.join(" or ")})`)
    return undefined
  }
  if (!isMechanism(mechanism)) throw new ConfigError(`FABRIC_KAFKA_SASL_MECHANISM=${mechanism}: Fabric speaks ${mechanisms.join(" and ")}`)
  if (username === undefined) throw new ConfigError(`FABRIC_KAFKA_SASL_MECHANISM=${mechanism} needs FABRIC_KAFKA_SASL_USERNAME`)
  if (password !== undefined && passwordFile !== undefined) throw new ConfigError("set FABRIC_KAFKA_SASL_PASSWORD or FABRIC_KAFKA_SASL_PASSWORD_FILE, not both")
  if (password === undefined && passwordFile === undefined) {
    throw new ConfigError(`FABRIC_KAFKA_SASL_MECHANISM=${mechanism} needs FABRIC_KAFKA_SASL_PASSWORD or FABRIC_KAFKA_SASL_PASSWORD_FILE`)
  }
  // A Secret written with `echo` or an editor ends in a newline that is not part of the password.
  const secret = password ?? readSetting("FABRIC_KAFKA_SASL_PASSWORD_FILE", passwordFile!).replace(/\r?\n$/, "")
  return { mechanism, username, password: secret }
}

const tlsFileSettings = ["FABRIC_KAFKA_TLS_CA_FILE", "FABRIC_KAFKA_TLS_CERT_FILE", "FABRIC_KAFKA_TLS_KEY_FILE", "FABRIC_KAFKA_TLS_SERVER_NAME"] as const

const parseTls = (env: Env): KafkaTls | undefined => {
  if (!flag(env, "FABRIC_KAFKA_TLS")) {
    // A CA or certificate without TLS would be ignored: a plaintext connection nobody meant.
    const stray = tlsFileSettings.filter((n) => set(env, n) !== undefined)
    if (stray.length > 0) throw new ConfigError(`${stray.join(" and ")} set but FABRIC_KAFKA_TLS is not 1`)
    return undefined
  }
  const cert = pem(env, "FABRIC_KAFKA_TLS_CERT_FILE")
  const key = pem(env, "FABRIC_KAFKA_TLS_KEY_FILE")
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError("FABRIC_KAFKA_TLS_CERT_FILE and FABRIC_KAFKA_TLS_KEY_FILE go together (a client certificate and its key)")
  const serverName = set(env, "FABRIC_KAFKA_TLS_SERVER_NAME")
  if (serverName !== undefined && (isIP(serverName) !== 0 || !/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/.test(serverName))) {
    throw new ConfigError(`FABRIC_KAFKA_TLS_SERVER_NAME=${serverName} is not a DNS name (TLS sends no IP address as a server name)`)
  }
  return { ca: pem(env, "FABRIC_KAFKA_TLS_CA_FILE"), cert, key, serverName }
}

export const parseKafkaSecurity = (env: Env, brokersSet: boolean): KafkaSecurity => {
  const sasl = parseSasl(env)
  const tls = parseTls(env)
  if (!brokersSet && (sasl !== undefined || tls !== undefined)) {
    throw new ConfigError("Kafka credentials or TLS are set but KAFKA_BROKERS is not (the embedded log needs neither)")
  }
  return { sasl, tls }
}
