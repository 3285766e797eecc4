import type { TopicSpec } from "../services/event-bus.ts"
import { topics } from "./messages.ts"

/** The topics of docs/architecture.md; fabric.projects is compacted (desired state per project). */
export const topicSpecs = (partitions: number): ReadonlyArray<TopicSpec> => [
  { name: topics.projects, partitions, compacted: true },
  { name: topics.status, partitions, compacted: false },
  { name: topics.clusters, partitions: 1, compacted: false },
  { name: topics.dlq, partitions: 1, compacted: false },
]
