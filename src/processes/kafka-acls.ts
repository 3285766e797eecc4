// The Kafka ACLs each Fabric process needs and no more, on an installation's topic prefix
// (FABRIC_KAFKA_PREFIX): what README.md's kafka-acls example grants and what the credentials
// suite grants on the secure test broker (tests/e2e/real/credentials.real.test.ts).
//
// What Kafka authorizes each call against: Metadata and ListOffsets, DESCRIBE on the topic;
// Produce, WRITE; Fetch, READ; CreateTopics, CREATE; joining, heartbeats and commits, READ on
// the group; OffsetFetch and FindCoordinator, DESCRIBE on the group; DeleteGroups, DELETE.
// READ and WRITE imply DESCRIBE, and an idempotent producer needs only WRITE on some topic
// (KIP-679), so no cluster-level ACL is needed. The outbox relay's transactional producer needs
// WRITE (and DESCRIBE, for FindCoordinator) on its transactional id.
import { topics } from "../domain/messages.ts"
import { daemonGroup } from "../domain/topics.ts"
import { clusterSignalsGroup } from "../management/cluster-consumer.ts"
import { relayPublisher } from "../management/outbox-relay.ts"
import { managementGroup } from "../management/status-consumer.ts"

export type AclOperation = "Read" | "Write" | "Create" | "Describe" | "Delete"

export interface KafkaGrant {
  readonly resource: "topic" | "group" | "transactional-id"
  /** prefixed: every name that starts with `name`. */
  readonly pattern: "literal" | "prefixed"
  readonly name: string
  readonly operations: ReadonlyArray<AclOperation>
}

const grant = (resource: KafkaGrant["resource"], pattern: KafkaGrant["pattern"], name: string, ...operations: AclOperation[]): KafkaGrant =>
  ({ resource, pattern, name, operations })

/** `fabric rpc` (and `fabric dev` on Kafka): creates the topics, publishes desired state (projects and resources), consumes status and cluster signals. */
export const rpcGrants = (prefix: string): ReadonlyArray<KafkaGrant> => [
  // ensureTopics at start: lists them, creates the missing ones
  grant("topic", "prefixed", `${prefix}fabric.`, "Create", "Describe"),
  grant("topic", "literal", `${prefix}${topics.projects}`, "Write"),
  grant("topic", "literal", `${prefix}${topics.resources}`, "Write"),
  // the outbox relay publishes in transactions, fenced by this id (one relay at a time)
  grant("transactional-id", "literal", `${prefix}${relayPublisher}`, "Write", "Describe"),
  grant("topic", "literal", `${prefix}${topics.status}`, "Read"),
  grant("topic", "literal", `${prefix}${topics.clusters}`, "Read"),
  grant("topic", "literal", `${prefix}${topics.dlq}`, "Write"),
  grant("group", "literal", `${prefix}${managementGroup}`, "Read"),
  grant("group", "literal", `${prefix}${clusterSignalsGroup}`, "Read"),
  // the lag metric of every daemon's group (committed offsets only)
  grant("group", "prefixed", `${prefix}fabric.daemon.`, "Describe"),
]

/**
 * One member cluster's `fabric daemon`: reads fabric.projects and fabric.resources in its own group, writes what it
 * observed and its heartbeats, parks undecodable desired state on fabric.dlq. Its readAll at start
 * uses throw-away groups named `<its group>.read-all.<uuid>`; cluster ids hold no dots, so the
 * prefix `<its group>.` matches no other cluster's group.
 */
export const daemonGrants = (prefix: string, clusterId: string): ReadonlyArray<KafkaGrant> => [
  grant("topic", "literal", `${prefix}${topics.projects}`, "Read"),
  grant("topic", "literal", `${prefix}${topics.resources}`, "Read"),
  grant("topic", "literal", `${prefix}${topics.status}`, "Write"),
  grant("topic", "literal", `${prefix}${topics.clusters}`, "Write"),
  grant("topic", "literal", `${prefix}${topics.dlq}`, "Write"),
  grant("group", "literal", `${prefix}${daemonGroup(clusterId)}`, "Read"),
  grant("group", "prefixed", `${prefix}${daemonGroup(clusterId)}.`, "Read", "Delete"),
]

/** Shell lines that give `user` the grants; `$ACLS` is `kafka-acls.sh --bootstrap-server ... --command-config <a Kafka admin's client config>`. */
export const kafkaAclsCommands = (user: string, grants: ReadonlyArray<KafkaGrant>): ReadonlyArray<string> =>
  grants.map((g) =>
    [
      "$ACLS --add",
      `--allow-principal User:${user}`,
      ...g.operations.map((o) => `--operation ${o}`),
      ...(g.pattern === "prefixed" ? ["--resource-pattern-type prefixed"] : []),
      `--${g.resource} ${g.name}`,
    ].join(" "))
