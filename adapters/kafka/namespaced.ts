// Several Fabric installations (or test runs) can share one Kafka cluster: this decorator puts a
// prefix on every topic and consumer group on the wire, while the domain keeps the logical names
// of docs/architecture.md (fabric.projects, ...).
import { Effect, Layer } from "effect"
import { EventBus, type BusMessage } from "../../src/services/event-bus.ts"

export const namespaced = (prefix: string) =>
  Layer.effect(
    EventBus,
    Effect.gen(function* () {
      const inner = yield* EventBus
      if (prefix === "") return inner
      const wire = (name: string) => `${prefix}${name}`
      const logical = (name: string) => (name.startsWith(prefix) ? name.slice(prefix.length) : name)
      const relabel = (message: BusMessage): BusMessage => ({ ...message, topic: logical(message.topic) })
      return EventBus.of({
        ensureTopics: (specs) => inner.ensureTopics(specs.map((s) => ({ ...s, name: wire(s.name) }))),
        publish: (topic, messages) => inner.publish(wire(topic), messages),
        fencedPublisher: (name) =>
          inner.fencedPublisher(wire(name)).pipe(Effect.map((publisher) => ({
            publish: (messages) => publisher.publish(messages.map((m) => ({ ...m, topic: wire(m.topic) }))),
          }))),
        subscribe: (sub) =>
          inner.subscribe({
            ...sub,
            group: wire(sub.group),
            topics: sub.topics.map(wire),
            handle: ([first, ...rest]) => sub.handle([relabel(first), ...rest.map(relabel)]),
          }),
        lag: (group, topic) => inner.lag(wire(group), wire(topic)),
        lags: (readings) => inner.lags(readings.map(({ group, topic }) => ({ group: wire(group), topic: wire(topic) }))),
        readAll: (topic, group) => inner.readAll(wire(topic), wire(group)).pipe(Effect.map((ms) => ms.map((m) => ({ ...m, topic })))),
      })
    }),
  )
