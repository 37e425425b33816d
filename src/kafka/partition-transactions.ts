import type { Kafka, Producer, Transaction } from 'kafkajs';
import { StaleBatchError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { javaCompatiblePartitioner } from './partitioner.ts';

const fencedTypes = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

function isFenced(error: unknown): boolean {
  for (let cause: unknown = error; cause !== undefined && cause !== null; cause = (cause as { cause?: unknown }).cause) {
    if (fencedTypes.has((cause as { type?: string }).type ?? '')) return true;
  }
  return false;
}

/**
 * Kafka transactions for read-process-write, one transactional producer per
 * input partition. kafkajs predates KIP-447 (sendOffsets carries no group
 * generation), so zombie fencing comes from the transactional id: it names
 * the group, topic and partition, so whichever member owns the partition next
 * initialises the same id, which bumps the epoch and fences the previous
 * owner's producer; the broker aborts its open transaction.
 */
export class PartitionTransactions {
  private readonly kafka: Kafka;
  private readonly groupId: string;
  private readonly logger: Logger;
  private readonly producers = new Map<string, Promise<Producer>>();

  constructor(kafka: Kafka, groupId: string, logger: Logger) {
    this.kafka = kafka;
    this.groupId = groupId;
    this.logger = logger;
  }

  transactionalId(topic: string, partition: number): string {
    return `${this.groupId}.${topic}.${partition}`;
  }

  /**
   * Runs `send` inside a transaction that also commits the group's offset
   * `nextOffset` for the input partition; commits both or neither.
   */
  async run(topic: string, partition: number, nextOffset: string, send: (tx: Transaction) => Promise<void>): Promise<void> {
    const key = `${topic}:${partition}`;
    const producer = await this.producerFor(key, topic, partition);
    let tx: Transaction | undefined;
    try {
      tx = await producer.transaction();
      await send(tx);
      await tx.sendOffsets({
        consumerGroupId: this.groupId,
        topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }],
      });
      await tx.commit();
    } catch (error) {
      // A producer whose transaction failed may be in any state: drop it. The
      // next attempt builds a new one, whose initialisation aborts whatever
      // this one left open.
      this.producers.delete(key);
      await tx?.abort().catch((abortError: unknown) => this.logger.debug({ err: abortError }, 'abort after a failed transaction'));
      await producer.disconnect().catch((closeError: unknown) => this.logger.debug({ err: closeError }, 'closing a failed producer'));
      if (isFenced(error)) {
        // Retrying would fence the rightful owner in turn.
        throw new StaleBatchError(`partition ${topic}[${partition}] now belongs to another member (fenced)`, { cause: error });
      }
      throw error;
    }
  }

  /** Closes the producers of partitions this member no longer owns. */
  async retain(owned: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    const keep = new Set(owned.map(({ topic, partition }) => `${topic}:${partition}`));
    const released = [...this.producers.entries()].filter(([key]) => !keep.has(key));
    for (const [key] of released) this.producers.delete(key);
    await Promise.all(released.map(async ([, producer]) => (await producer).disconnect()));
  }

  async close(): Promise<void> {
    await this.retain([]);
  }

  private producerFor(key: string, topic: string, partition: number): Promise<Producer> {
    let producer = this.producers.get(key);
    if (producer === undefined) {
      const created = this.kafka.producer({
        transactionalId: this.transactionalId(topic, partition),
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: javaCompatiblePartitioner,
        allowAutoTopicCreation: false,
        transactionTimeout: 60_000,
      });
      producer = created.connect().then(() => created);
      producer.catch(() => this.producers.delete(key));
      this.producers.set(key, producer);
    }
    return producer;
  }
}
