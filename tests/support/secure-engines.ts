// The credentials suite's engines (`infra.sh up` starts them with the others; `infra.sh env`
// exports their settings): the secure Kafka broker (SASL_SSL, SCRAM users, ACL authorizer), TLS
// on the Postgres server, and the CA files. A run grants its ACLs on its own topic prefix as the
// broker's super user, and takes them away again with its topics and groups.
import kafkajs, { Kafka, logLevel, type AclEntry, type AclOperationTypes as AclOperation, type AclResourceTypes as AclResource, type Admin } from "kafkajs"
import { kafkajsSecurity } from "../../adapters/kafka/client.ts"
import type { KafkaSasl } from "../../adapters/kafka/config.ts"
import type { KafkaGrant } from "../../src/processes/kafka-acls.ts"
import { waitFor } from "./wait-for.ts"

const required = (name: string): string => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: start the engines with \`npm run infra:up\` (it starts the secure broker and TLS on Postgres), then \`eval "$(npm run -s infra:env)"\``)
  return value
}

export const requireSecureEngines = () => ({
  brokers: required("FABRIC_SECURE_KAFKA_BROKERS"),
  /** The same broker's listener that requires a client certificate from the CA. */
  mtlsBrokers: required("FABRIC_SECURE_KAFKA_MTLS_BROKERS"),
  caFile: required("FABRIC_INFRA_CA_FILE"),
  otherCaFile: required("FABRIC_INFRA_OTHER_CA_FILE"),
  clientCertFile: required("FABRIC_INFRA_CLIENT_CERT_FILE"),
  clientKeyFile: required("FABRIC_INFRA_CLIENT_KEY_FILE"),
  otherClientCertFile: required("FABRIC_INFRA_OTHER_CLIENT_CERT_FILE"),
  otherClientKeyFile: required("FABRIC_INFRA_OTHER_CLIENT_KEY_FILE"),
  /** verify-full against the CA, host localhost (the name the server's certificate carries). */
  tlsDatabaseUrl: required("FABRIC_TLS_DATABASE_URL"),
  /** The password of one of the broker's SCRAM users (admin, fabric-rpc, fabric-daemon-a, ...). */
  password: (user: string) => required(`FABRIC_SECURE_KAFKA_PASSWORD_${user.toUpperCase().replaceAll("-", "_")}`),
})

export type SecureEngines = ReturnType<typeof requireSecureEngines>

/** The broker's super user, over TLS with the engines' CA. */
export const secureAdmin = async (engines: SecureEngines, ca: string): Promise<Admin> => {
  const sasl: KafkaSasl = { mechanism: "scram-sha-512", username: "admin", password: engines.password("admin") }
  const admin = new Kafka({ clientId: "fabric-test-acls", brokers: [engines.brokers], logLevel: logLevel.NOTHING, ...kafkajsSecurity({ sasl, tls: { ca } }) }).admin()
  await admin.connect()
  return admin
}

// (enums kafkajs exports only on its CommonJS default, not as named ESM exports)
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs

const operation: Record<KafkaGrant["operations"][number], AclOperation> = {
  Read: AclOperationTypes.READ, Write: AclOperationTypes.WRITE, Create: AclOperationTypes.CREATE,
  Describe: AclOperationTypes.DESCRIBE, Delete: AclOperationTypes.DELETE,
}

const resourceType: Record<KafkaGrant["resource"], AclResource> = {
  topic: AclResourceTypes.TOPIC, group: AclResourceTypes.GROUP, "transactional-id": AclResourceTypes.TRANSACTIONAL_ID,
}

const entries = (user: string, grants: ReadonlyArray<KafkaGrant>): AclEntry[] =>
  grants.flatMap((g) => g.operations.map((o) => ({
    resourceType: resourceType[g.resource],
    resourceName: g.name,
    resourcePatternType: g.pattern === "prefixed" ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
    principal: `User:${user}`,
    host: "*",
    operation: operation[o],
    permissionType: AclPermissionTypes.ALLOW,
  })))

const principalsOf = async (admin: Admin, user: string) =>
  (await admin.describeAcls({
    resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, principal: `User:${user}`, host: "*",
    operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY,
  })).resources.flatMap((r) => r.acls.map((a) => `${r.resourceType}/${r.resourcePatternType}/${r.resourceName}/${a.operation}`))

/** Grants them, and waits until the broker's authorizer has them (they travel through the metadata log). */
export const grantAcls = async (admin: Admin, user: string, grants: ReadonlyArray<KafkaGrant>) => {
  const wanted = entries(user, grants)
  await admin.createAcls({ acl: wanted })
  const keys = wanted.map((e) => `${e.resourceType}/${e.resourcePatternType}/${e.resourceName}/${e.operation}`)
  await waitFor(`the ACLs of User:${user}`, async () => {
    const have = new Set(await principalsOf(admin, user))
    return keys.every((k) => have.has(k)) ? true : undefined
  }, 30_000, 100)
}

export const revokeAcls = async (admin: Admin, user: string, grants: ReadonlyArray<KafkaGrant>) => {
  await admin.deleteAcls({ filters: entries(user, grants) })
}

/** The run's topics and groups (all under its prefix) go away, as on the shared broker. */
export const deleteSecureRun = async (admin: Admin, prefix: string) => {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
  if (topics.length > 0) await admin.deleteTopics({ topics })
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix))
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => {})
}
