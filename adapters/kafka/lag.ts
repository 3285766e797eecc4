// A group's lag on a topic: messages between its committed offset and the end of each partition.

export interface CommittedOffset { readonly partition: number; readonly offset: string }
export interface PartitionEnds { readonly partition: number; readonly low: string; readonly high: string }

/** A partition the group never committed counts from its first retained message (low). */
export const uncommittedMessages = (committed: ReadonlyArray<CommittedOffset>, ends: ReadonlyArray<PartitionEnds>): number => {
  let total = 0n
  for (const { partition, low, high } of ends) {
    const commit = BigInt(committed.find((c) => c.partition === partition)?.offset ?? -1)
    // -1 = never committed; a commit below low points at messages retention already removed
    const start = commit > BigInt(low) ? commit : BigInt(low)
    if (BigInt(high) > start) total += BigInt(high) - start
  }
  return Number(total)
}

interface LagAdmin {
  readonly fetchOffsets: (options: { groupId: string; topics: string[] }) => Promise<ReadonlyArray<{ topic: string; partitions: ReadonlyArray<CommittedOffset> }>>
  readonly fetchTopicOffsets: (topic: string) => Promise<ReadonlyArray<PartitionEnds>>
}

// Groups asked at a time: one OffsetFetch each, to the group's coordinator.
const groupsAtOnce = 8

/** The lags in the order asked, or the first request that failed (what it read, and why). */
export type LagsRead = { readonly lags: ReadonlyArray<number> } | { readonly failed: string; readonly error: unknown }

const attempt = async (action: string, run: () => Promise<unknown>) =>
  run().then(() => undefined, (error: unknown) => ({ failed: action, error }))

/**
 * The lag of each (group, topic) in the order asked: one ends request per distinct topic, one
 * offsets request per distinct group. Every request has answered before it resolves: one still
 * in flight when the layer closes would make kafkajs connect again after its disconnect, and
 * keep the process alive.
 */
export const readLags = async (admin: LagAdmin, readings: ReadonlyArray<{ readonly group: string; readonly topic: string }>): Promise<LagsRead> => {
  const topicsOf = new Map<string, Set<string>>()
  for (const { group, topic } of readings) topicsOf.set(group, (topicsOf.get(group) ?? new Set()).add(topic))
  const endsOf = new Map<string, ReadonlyArray<PartitionEnds>>()
  const committedOf = new Map<string, ReadonlyArray<{ topic: string; partitions: ReadonlyArray<CommittedOffset> }>>()
  const endsRead = Promise.all([...new Set(readings.map((r) => r.topic))].map((topic) =>
    attempt(`read the end offsets of ${topic}`, async () => endsOf.set(topic, await admin.fetchTopicOffsets(topic)))))
  const groups = [...topicsOf]
  const groupFailures = []
  for (let i = 0; i < groups.length; i += groupsAtOnce) {
    groupFailures.push(...await Promise.all(groups.slice(i, i + groupsAtOnce).map(([groupId, topics]) =>
      attempt(`read lag of ${groupId} on ${[...topics].join(",")}`, async () => committedOf.set(groupId, await admin.fetchOffsets({ groupId, topics: [...topics] }))))))
  }
  const failed = [...groupFailures, ...await endsRead].find((f) => f !== undefined)
  if (failed !== undefined) return failed
  return {
    lags: readings.map(({ group, topic }) =>
      uncommittedMessages(committedOf.get(group)?.find((t) => t.topic === topic)?.partitions ?? [], endsOf.get(topic) ?? [])),
  }
}
