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
