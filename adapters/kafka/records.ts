// Conversions between the bus's string messages and kafkajs's Buffer records.
import type { IHeaders, KafkaMessage, Message } from "kafkajs"
import type { BusMessage, OutgoingMessage } from "../../src/services/event-bus.ts"

export const toKafkaMessage = (message: OutgoingMessage): Message => ({
  key: message.key,
  value: message.value,
  ...(message.headers === undefined ? {} : { headers: { ...message.headers } }),
})

const headerText = (value: IHeaders[string]): string | undefined => {
  if (value === undefined) return undefined
  // Kafka allows a header name to repeat; the bus keeps the last value, as a map would
  const last = Array.isArray(value) ? value[value.length - 1] : value
  return last === undefined ? undefined : last.toString()
}

const decodeHeaders = (headers: IHeaders | undefined): Record<string, string> => {
  const decoded: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    const text = headerText(value)
    if (text !== undefined) decoded[name] = text
  }
  return decoded
}

export const toBusMessage = (topic: string, partition: number, message: KafkaMessage): BusMessage => ({
  topic,
  partition,
  offset: message.offset,
  key: message.key === null ? null : message.key.toString(),
  value: message.value === null ? null : message.value.toString(), // null = tombstone
  headers: decodeHeaders(message.headers),
})

/** Kafka commits the offset of the NEXT message to read. */
export const offsetAfter = (offset: string): string => (BigInt(offset) + 1n).toString()
