// Settings for running a suite on the real engines of `npm run infra:up`: a fresh database per
// test process and a Kafka prefix per process, so test files can share the engines.
import postgres from "postgres"

export const requireRealEngines = () => {
  const databaseUrl = process.env.DATABASE_URL
  const kafkaBrokers = process.env.KAFKA_BROKERS
  if (!databaseUrl || !kafkaBrokers) {
    throw new Error('DATABASE_URL and KAFKA_BROKERS are not set: start the engines with `npm run infra:up`, then `eval "$(npm run -s infra:env)"`')
  }
  return { databaseUrl, kafkaBrokers }
}

/** The three kube-apiservers of the engines: each daemon's kubeconfig, and an admin's for reading behind Fabric's back. */
export const requireThreeClusters = () => {
  const kubeconfigs = (process.env.FABRIC_KUBECONFIGS ?? "").split(",").filter(Boolean)
  const admins = (process.env.FABRIC_ADMIN_KUBECONFIGS ?? "").split(",").filter(Boolean)
  if (kubeconfigs.length < 3 || admins.length !== kubeconfigs.length) throw new Error("FABRIC_KUBECONFIGS / FABRIC_ADMIN_KUBECONFIGS must list 3 clusters: run `npm run infra:up`")
  return { kubeconfigs: kubeconfigs.slice(0, 3), admins: admins.slice(0, 3) }
}

/** Creates an empty database for this test process; `drop` removes it. */
export const freshDatabase = async () => {
  const { databaseUrl } = requireRealEngines()
  const name = `fabric_test_${Date.now().toString(36)}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  const url = new URL(databaseUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      const again = postgres(databaseUrl, { max: 1, onnotice: () => {} })
      await again.unsafe(`drop database if exists ${name} with (force)`)
      await again.end()
    },
  }
}

export const uniqueKafkaPrefix = () => `t${Date.now().toString(36)}${process.pid}.`
