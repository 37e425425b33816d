/**
 * kelt's own shapes for records crossing the Kafka boundary. Stages and
 * processors use these; only `src/kafka/` knows the client library's types
 * (kafkajs's structurally match them, so the adapter passes them through).
 */
export type RecordHeaders = Record<string, Buffer | string | Array<Buffer | string> | undefined>;

/** A record as consumed: its bytes and its place in the partition. */
export interface ConsumedRecord {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
  timestamp: string;
  headers?: RecordHeaders;
}

/** A record to produce. Without `partition`, its key places it (murmur2, like the Java client). */
export interface OutgoingRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  timestamp?: string;
  headers?: RecordHeaders;
}

/** Where a stage's output goes: a producer, or an open transaction. */
export interface RecordSink {
  /** Sends records to `topic`, placing keyed ones among its `partitions`. */
  send(topic: string, records: readonly OutgoingRecord[], partitions: number): Promise<void>;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A header's (first) value as text; undefined when the record does not carry it. */
export function headerText(headers: RecordHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
