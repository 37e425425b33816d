import type { Message, Producer, Transaction } from 'kafkajs';
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
 * otherwise they run in parallel.
 */
export async function sendByPartition(
  via: Producer | Transaction,
  topic: string,
  messages: readonly Message[],
  partitions: number,
  { inTransaction }: { inTransaction: boolean },
): Promise<void> {
  const byPartition = new Map<number, Message[]>();
  for (const message of messages) {
    const partition = message.partition ?? partitionForKey(keyBytes(message.key), partitions);
    const list = byPartition.get(partition) ?? [];
    list.push({ ...message, partition });
    byPartition.set(partition, list);
  }
  const send = ([, batch]: [number, Message[]]) => via.send({ topic, acks: -1, messages: batch });
  if (inTransaction) {
    for (const entry of byPartition) await send(entry);
  } else {
    await Promise.all([...byPartition].map(send));
  }
}

function keyBytes(key: Message['key']): Buffer {
  if (key === null || key === undefined) {
    throw new Error('a record without a key and without a partition cannot be placed');
  }
  return typeof key === 'string' ? Buffer.from(key) : key;
}
