// Moves the paused daemons' consumer groups to the end of fabric.projects: the 20k-project run
// seeds Fabric while its daemons are stopped (SIGSTOP), then lets them skip the seeded backlog
// instead of spending ~17 minutes creating 60,000 namespaces at their rate limit. The groups are
// found by what they consume (committed offsets on fabric.projects), not by name, so a tree that
// names them differently still works.
import { Kafka, logLevel } from "kafkajs"
import { sleep } from "./stats.ts"

export const skipBacklogOfPausedGroups = async (brokers: string, prefix: string, timeoutMs: number) => {
  const admin = new Kafka({ clientId: "fabric-bench", brokers: brokers.split(","), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const topic = `${prefix}fabric.projects`
    const groups: string[] = []
    for (const { groupId } of (await admin.listGroups()).groups) {
      if (!groupId.startsWith(prefix)) continue
      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] })
      if (offsets.some((t) => t.partitions.some((p) => Number(p.offset) >= 0))) groups.push(groupId)
    }
    if (groups.length === 0) throw new Error(`no consumer group of ${prefix} has offsets on ${topic}`)
    // A paused member leaves its group only when its session times out.
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const described = await admin.describeGroups(groups)
      if (described.groups.every((g) => g.state === "Empty")) break
      if (Date.now() > deadline) throw new Error(`groups not empty within ${timeoutMs} ms: ${described.groups.map((g) => `${g.groupId}=${g.state}`).join(", ")}`)
      await sleep(1_000)
    }
    // The real high watermarks: admin.resetOffsets commits the symbolic -1, which a consumer
    // subscribed fromBeginning reads as "no offset" and starts over from the beginning.
    const ends = await admin.fetchTopicOffsets(topic)
    for (const groupId of groups) await admin.setOffsets({ groupId, topic, partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })) })
    return groups
  } finally {
    await admin.disconnect()
  }
}
