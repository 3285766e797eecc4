// Opening Postgres from a DATABASE_URL with libpq's TLS parameters, `sslmode` and `sslrootcert`.
// postgres.js 3.4 (read in node_modules/postgres/src) takes `sslmode` but checks verify-ca like
// verify-full and only against the system's CAs, and sends any other parameter it does not know,
// `sslrootcert=<file>` included, to the server as a run-time setting, which the server refuses.
// So both are taken out of the URL here and become the driver's TLS options. And postgres.js sets
// no server name for an IP address, so Node would check the certificate against "localhost":
// verify-full checks the URL's host itself.
import { readFileSync } from "node:fs"
import { checkServerIdentity, type ConnectionOptions } from "node:tls"
import { Schema } from "effect"
import postgres from "postgres"

export const sslModes = ["disable", "require", "verify-ca", "verify-full"] as const
export type SslMode = (typeof sslModes)[number]
const isSslMode = Schema.is(Schema.Literals(sslModes))

export interface DatabaseTls {
  /** The URL without the parameters handled here. */
  readonly url: string
  /** Undefined: the URL names no sslmode, and the connection is not encrypted (postgres.js's default). */
  readonly mode: SslMode | undefined
  /** A CA file to verify the server against; undefined: the system's CAs. */
  readonly rootCertFile: string | undefined
  /** The name the server's certificate must carry (verify-full). */
  readonly host: string
}

/** libpq parameters with no meaning here: refused rather than sent to the server as settings. */
const unsupported = ["sslcert", "sslkey", "sslpassword", "sslcrl", "sslcrldir", "sslsni", "sslcertmode", "requiressl"]

/** Reads the TLS parameters of a DATABASE_URL; throws an Error that says what is wrong. */
export const databaseTls = (databaseUrl: string): DatabaseTls => {
  // By hand, not with URL: postgres.js takes host1:port1,host2:port2, which URL does not parse.
  const at = databaseUrl.indexOf("?")
  const params = new URLSearchParams(at < 0 ? "" : databaseUrl.slice(at + 1))
  const mode = params.get("sslmode") ?? undefined
  const rootCert = params.get("sslrootcert") ?? undefined
  for (const name of unsupported) if (params.has(name)) throw new Error(`${name} is not supported (only sslmode and sslrootcert are)`)
  if (mode === "prefer" || mode === "allow") {
    throw new Error(`sslmode=${mode} is not supported: it falls back to an unencrypted connection without telling; use ${sslModes.join(", ")}`)
  }
  if (mode !== undefined && !isSslMode(mode)) throw new Error(`sslmode=${mode} is not one of ${sslModes.join(", ")}`)
  if (rootCert !== undefined && (mode === undefined || mode === "disable")) throw new Error(`sslrootcert is set but sslmode is ${mode ?? "not"}: set sslmode=verify-full (or verify-ca)`)
  if (rootCert === "") throw new Error("sslrootcert is empty")
  const authority = databaseUrl.slice(databaseUrl.indexOf("://") + 3).split(/[/?]/)[0]!
  const hosts = authority.slice(authority.lastIndexOf("@") + 1)
  // libpq: sslrootcert=system means the system's CAs and forces verify-full; with a CA file, require verifies the CA too.
  const effective: SslMode | undefined = rootCert === "system" ? "verify-full" : mode === "require" && rootCert !== undefined ? "verify-ca" : mode
  // one certificate check cannot know which of several hosts answered
  if (hosts.includes(",") && effective === "verify-full") throw new Error("sslmode=verify-full takes one host, not a list")
  params.delete("sslmode")
  params.delete("sslrootcert")
  const rest = params.toString()
  return {
    url: `${at < 0 ? databaseUrl : databaseUrl.slice(0, at)}${rest === "" ? "" : `?${rest}`}`,
    mode: effective,
    rootCertFile: rootCert === "system" ? undefined : rootCert,
    host: decodeURIComponent(hosts.startsWith("[") ? hosts.slice(1, hosts.indexOf("]")) : hosts.split(":")[0]!),
  }
}

const readCa = (file: string): string => {
  try {
    return readFileSync(file, "utf8")
  } catch (e) {
    throw new Error(`sslrootcert=${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`)
  }
}

/** postgres.js's `ssl` option for a mode. */
const sslOption = ({ mode, rootCertFile, host }: DatabaseTls): false | ConnectionOptions => {
  if (mode === undefined || mode === "disable") return false
  if (mode === "require") return { rejectUnauthorized: false }
  const ca = rootCertFile === undefined ? {} : { ca: readCa(rootCertFile) }
  return {
    ...ca,
    rejectUnauthorized: true,
    // verify-ca: the chain up to the CA, whatever name the certificate carries (libpq's meaning).
    checkServerIdentity: mode === "verify-ca" ? () => undefined : (_name, cert) => checkServerIdentity(host, cert),
  }
}

/** A postgres.js pool for a DATABASE_URL, its TLS parameters applied. */
export const openPostgres = <T extends Record<string, postgres.PostgresType> = {}>(databaseUrl: string, options: postgres.Options<T> = {}) => {
  const tls = databaseTls(databaseUrl)
  return postgres(tls.url, { ...options, ssl: sslOption(tls) })
}

/** "self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)": a connection failure with the code that names it. */
export const describeConnectError = (cause: unknown): string => {
  const { message, code } = cause as { message?: unknown; code?: unknown }
  const text = typeof message === "string" ? message : String(cause)
  return typeof code === "string" && !text.includes(code) ? `${text} (${code})` : text
}
