import { topics } from "./messages.ts"

export interface TopicSpec {
  readonly name: string
  readonly partitions: number
  /** Keep only the newest message per key (Kafka log compaction). */
  readonly compacted: boolean
}

/** The topics of docs/architecture.md; fabric.projects and fabric.resources are compacted (desired state per key). */
export const topicSpecs = (partitions: number): ReadonlyArray<TopicSpec> => [
  { name: topics.projects, partitions, compacted: true },
  { name: topics.resources, partitions, compacted: true },
  { name: topics.status, partitions, compacted: false },
  { name: topics.clusters, partitions: 1, compacted: false },
  { name: topics.dlq, partitions: 1, compacted: false },
]

/** Each cluster's daemon reads fabric.projects and fabric.resources in a group of its own (broadcast, backfill from the start). */
export const daemonGroup = (clusterId: string) => `fabric.daemon.${clusterId}`
