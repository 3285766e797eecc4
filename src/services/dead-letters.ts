import { Effect } from "effect"
import { encodeJson, topics, type DeadLetter } from "../domain/messages.ts"
import { EventBus, type BusMessage } from "./event-bus.ts"

/** Parks a message that cannot be processed on fabric.dlq with the reason, so the partition moves on. */
export const sendToDeadLetters = (message: BusMessage, reason: string) =>
  Effect.gen(function* () {
    const letter: DeadLetter = {
      topic: message.topic, partition: message.partition, offset: message.offset, key: message.key, value: message.value, reason,
    }
    yield* Effect.logWarning("message sent to the dead-letter topic", { topic: message.topic, offset: message.offset, reason })
    yield* (yield* EventBus).publish(topics.dlq, [{ key: message.key ?? `${message.topic}/${message.partition}/${message.offset}`, value: encodeJson(letter) }])
  })
