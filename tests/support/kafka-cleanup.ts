// Leave the shared broker as a test run found it: the run's topics and consumer groups (all named
// with the run's prefix) go away.
import { Kafka, logLevel } from "kafkajs"

export const deleteKafkaRun = async (brokers: ReadonlyArray<string>, prefix: string): Promise<void> => {
  if (brokers.length === 0) return
  const admin = new Kafka({ clientId: "fabric-test-cleanup", brokers: [...brokers], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
    if (topics.length > 0) await admin.deleteTopics({ topics })
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix))
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => {})
  } finally {
    await admin.disconnect()
  }
}
