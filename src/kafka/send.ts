import type { Message, Producer, Transaction } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '../errors.ts';
import { classifyKafkaError } from './errors.ts';
import { partitionForKey } from './partitioner.ts';

/**
 * Sends records one partition per request. kafkajs (2.2.4) can lose records
 * in a send that spans brokers: it remembers a successful response per
 * broker, and after a NOT_LEADER error it refreshes metadata and re-sends only
 * to brokers without a response, so when the failed partition's new leader is
 * a broker that had already answered, that partition's records are never sent
 * and `send()` still resolves (kafkajs PR #1798, unreleased). A send to a
 * single partition retries correctly. In a transaction the requests go one
 * after another (concurrent ones conflict on the transaction coordinator);
 * otherwise partitions run in parallel.
 *
 * A partition's records are cut into requests of at most `MAX_REQUEST_BYTES`
 * and `MAX_REQUEST_MESSAGES`, sent in order: the broker refuses a record
 * batch larger than its message.max.bytes (1 MiB by default), and a full
 * fetch of one input partition can turn into more than that for one output
 * partition. The message cap is for kafkajs, whose producer groups a send's
 * messages by partition in time quadratic in their number
 * (groupMessagesPerPartition copies the partition's array per message).
 */
export async function sendByPartition(
  via: Producer | Transaction,
  { topic, partitions }: { topic: string; partitions: number },
  messages: readonly Message[],
  { inTransaction, retryForMs = 0 }: { inTransaction: boolean; retryForMs?: number },
): Promise<void> {
  const byPartition = new Map<number, Message[]>();
  for (const message of messages) {
    const partition = message.partition ?? partitionForKey(keyBytes(message.key), partitions);
    const list = byPartition.get(partition) ?? [];
    list.push({ ...message, partition });
    byPartition.set(partition, list);
  }
  const retryUntil = Date.now() + retryForMs;
  const sendPartition = async ([, batch]: [number, Message[]]) => {
    for (const request of requestsOf(batch)) await sendRequest(via, topic, request, retryUntil);
  };
  if (inTransaction) {
    for (const entry of byPartition) await sendPartition(entry);
  } else {
    await Promise.all([...byPartition].map(sendPartition));
  }
}

/**
 * Sends one request, and again while it fails transiently until
 * `retryUntil`: a partition whose leader died is unavailable until the
 * cluster elects another (seconds), longer than the client's own retries.
 * Only an idempotent producer outside a transaction is given time to retry:
 * the same request again carries the same sequence numbers, so the broker
 * drops whatever of it had landed. A transaction's send fails its batch,
 * which is retried whole.
 */
async function sendRequest(via: Producer | Transaction, topic: string, messages: Message[], retryUntil: number): Promise<void> {
  const partition = messages[0]!.partition!;
  for (let attempt = 0; ; attempt++) {
    try {
      const answers = await via.send({ topic, acks: -1, messages });
      // kafkajs resolves a send without sending a partition its metadata
      // does not list (findLeaderForPartitions skips it): no answer for the
      // partition means its records were not written.
      if (!answers.some((answer) => answer.topicName === topic && answer.partition === partition)) {
        throw new UnsentPartitionError(topic, partition);
      }
      return;
    } catch (error) {
      if (Date.now() >= retryUntil || !classifyKafkaError(error, 'sending').retriable) throw error;
      await sleep(Math.min(5_000, 200 * 2 ** attempt));
    }
  }
}

/** kafkajs answered a send without writing its partition (the partition is not in its metadata). */
export class UnsentPartitionError extends TransientError {
  constructor(topic: string, partition: number) {
    super(`${topic} has no partition ${partition} in the client's metadata: its records were not sent`);
  }
}

export const MAX_REQUEST_BYTES = 512 * 1024;
export const MAX_REQUEST_MESSAGES = 500;
/** A record's framing in a record batch (length, attributes, deltas, header count), at most. */
const RECORD_OVERHEAD_BYTES = 32;

/**
 * Consecutive runs of at most MAX_REQUEST_MESSAGES messages whose estimated
 * size stays within MAX_REQUEST_BYTES (a larger message goes alone).
 */
export function requestsOf(messages: readonly Message[]): Message[][] {
  const requests: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = sizeOf(message);
    if (current.length > 0 && (bytes + size > MAX_REQUEST_BYTES || current.length === MAX_REQUEST_MESSAGES)) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

/** A record batch's own header (base offset, length, epoch, magic, CRC, attributes, deltas, ids, count). */
const RECORD_BATCH_OVERHEAD_BYTES = 61;

/**
 * An upper estimate of the record batch that carries `record` alone: what
 * the broker compares with the topic's max.message.bytes.
 */
export function loneRecordBytes(record: Message): number {
  return RECORD_BATCH_OVERHEAD_BYTES + sizeOf(record);
}

function sizeOf(message: Message): number {
  let size = RECORD_OVERHEAD_BYTES + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    size += Buffer.byteLength(name) + (Array.isArray(value) ? value.reduce((sum: number, v) => sum + byteLength(v), 0) : byteLength(value));
  }
  return size;
}

function byteLength(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

function keyBytes(key: Message['key']): Buffer {
  if (key === null || key === undefined) {
    throw new Error('a record without a key and without a partition cannot be placed');
  }
  return typeof key === 'string' ? Buffer.from(key) : key;
}
