// Layer composition, at the edge only: which adapter backs each service in this process.
import { hostname } from "node:os"
import { Layer } from "effect"
import * as crdFiles from "../../adapters/catalogue/crd-files.ts"
import * as pglite from "../../adapters/embedded/pglite.ts"
import * as eventLog from "../../adapters/embedded/event-log.ts"
import * as kafka from "../../adapters/kafka/event-bus.ts"
import { namespaced } from "../../adapters/kafka/namespaced.ts"
import * as postgres from "../../adapters/postgres/database.ts"
import * as accountStore from "../../adapters/postgres/accounts.ts"
import * as membershipStore from "../../adapters/postgres/clusters.ts"
import * as debugSessions from "../../adapters/postgres/debug-sessions.ts"
import * as idempotencyKeys from "../../adapters/postgres/idempotency.ts"
import * as leases from "../../adapters/postgres/leases.ts"
import * as legacy from "../../adapters/postgres/legacy-demeter.ts"
import * as notifications from "../../adapters/postgres/notifications.ts"
import * as outbox from "../../adapters/postgres/outbox.ts"
import * as projectReadModel from "../../adapters/postgres/projects.ts"
import * as resourceReadModel from "../../adapters/postgres/resources.ts"
import * as retention from "../../adapters/postgres/retention.ts"
import * as actorSnapshots from "../../adapters/postgres/snapshots.ts"
import type { FabricConfig } from "./config.ts"
import { Changes } from "../services/changes.ts"
import { Ids } from "../services/ids.ts"
import { Leases } from "../services/leases.ts"
import { Metrics } from "../services/metrics.ts"
import { ManagementSettings } from "../services/settings.ts"
import { Accounts } from "../management/accounts.ts"
import { Authentication } from "../management/authentication.ts"
import { ClusterRegistry } from "../management/cluster-registry.ts"
import { DebugReads } from "../management/debug-reads.ts"
import { IdempotentRequests } from "../management/idempotent-requests.ts"
import { Observations } from "../management/observations.ts"
import { Projects } from "../management/projects.ts"
import { Readiness } from "../management/readiness.ts"
import { Resources } from "../management/resources.ts"
import { statelyInspectLayer } from "./stately-inspect.ts"

/** A real server with DATABASE_URL; else PGlite under <dataDir>/db (in memory when dataDir is undefined, for tests). */
const databaseLayer = (config: { readonly databaseUrl: string | undefined; readonly dataDir: string | undefined }) =>
  config.databaseUrl ? postgres.layerUrl({ url: config.databaseUrl })
  : pglite.layer({ dataDir: config.dataDir === undefined ? undefined : `${config.dataDir}/db` })

type KafkaSettings = Pick<FabricConfig, "kafkaBrokers" | "kafkaPrefix" | "kafkaSasl" | "kafkaTls">

/** Kafka when brokers are configured (names prefixed by FABRIC_KAFKA_PREFIX, with its credentials and TLS). */
export const kafkaBusLayer = (config: KafkaSettings & { readonly kafkaBrokers: ReadonlyArray<string> }) =>
  namespaced(config.kafkaPrefix).pipe(Layer.provide(kafka.layer(kafka.makeKafkaConfig({ brokers: config.kafkaBrokers, sasl: config.kafkaSasl, tls: config.kafkaTls }))))

/** Kafka, else the embedded log in the same database. */
const eventBusLayer = (config: KafkaSettings) =>
  config.kafkaBrokers ? kafkaBusLayer({ ...config, kafkaBrokers: config.kafkaBrokers }) : eventLog.layer()

/**
 * This process among the replicas, as the lease holders show it: the host (the pod's name on
 * Kubernetes) and the pid, within the 63 bytes of a Postgres application_name.
 */
const replicaName = () => `${hostname().slice(0, 50)}:${process.pid}`

/** The kind catalogue: the CRD files of FABRIC_CRDS_DIR, else deploy/crds/. */
export const catalogueLayer = (config: Pick<FabricConfig, "crdsDirectory">) => crdFiles.layer(config.crdsDirectory)

/** Everything the management side needs, over one database. */
export const managementLayer = (config: Pick<FabricConfig, "databaseUrl" | "projectQuota" | "resourceQuota" | "statelyInspect" | "crdsDirectory"> & KafkaSettings & { readonly dataDir: string | undefined }) => {
  const database = databaseLayer(config)
  const stores = Layer.mergeAll(
    accountStore.layer, projectReadModel.layer, resourceReadModel.layer, actorSnapshots.layer, outbox.layer, idempotencyKeys.layer, membershipStore.layer, debugSessions.layer,
    legacy.layer, postgres.transactionsLayer, retention.layer,
  )
  // A real server notifies every replica; PGlite is one process (and one session: no LISTEN connection).
  const changes = config.databaseUrl ? notifications.changesLayer({ url: config.databaseUrl }) : Changes.layer
  // Replicas share a real server, so leases are its advisory locks; PGlite is one process.
  const singletonLeases = config.databaseUrl ? leases.leasesLayer({ url: config.databaseUrl, holder: replicaName() }) : Leases.layer(replicaName())
  const settings = Layer.succeed(ManagementSettings, { projectQuota: config.projectQuota, resourceQuota: config.resourceQuota })
  const base = Layer.mergeAll(stores, Ids.layer, changes, singletonLeases, settings, Metrics.layer, catalogueLayer(config))
  const management = Layer.mergeAll(Resources.layer, Observations.layer, Authentication.layer, Readiness.layer, DebugReads.layer, ClusterRegistry.layer).pipe(
    Layer.provideMerge(Projects.layer),
    Layer.provideMerge(Accounts.layer),
    Layer.provideMerge(IdempotentRequests.layer),
    Layer.provideMerge(base),
  )
  return Layer.mergeAll(management, eventBusLayer(config), statelyInspectLayer(config.statelyInspect)).pipe(Layer.provideMerge(database))
}
