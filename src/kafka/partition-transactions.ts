import type { Admin, Kafka, Transaction } from 'kafkajs';
import { StaleBatchError, TransientError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { classifyKafkaError } from './errors.ts';
import { javaCompatiblePartitioner } from './partitioner.ts';
import type { RecordSink } from './records.ts';
import { sendByPartition } from './send.ts';

/** An open transaction: output, the group's offset, then commit or abort. */
export interface OpenTransaction {
  sink: RecordSink;
  sendOffsets(groupId: string, topic: string, partition: number, nextOffset: string): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface TransactionalProducer {
  transaction(): Promise<OpenTransaction>;
  disconnect(): Promise<void>;
}

/**
 * What PartitionTransactions needs of a Kafka client (kafkajs below, a fake
 * in the unit tests).
 */
export interface TransactionalClient {
  /**
   * A connected producer for `transactionalId`. Connecting initialises the id
   * (InitProducerId), which fences every older producer of the id and, before
   * it returns, completes or aborts whatever transaction they left open.
   */
  producer(transactionalId: string): Promise<TransactionalProducer>;
  /** The group's committed offset for a partition; undefined when it has none. */
  committedOffset(groupId: string, topic: string, partition: number): Promise<bigint | undefined>;
  close(): Promise<void>;
}

/** How a batch's transaction ended. */
export type TransactionOutcome =
  /** This call committed it. */
  | 'committed'
  /** An earlier attempt whose commit reply was lost had committed it; nothing was sent again. */
  | 'committed-earlier';

/**
 * Kafka transactions for read-process-write, one transactional producer per
 * input partition. kafkajs predates KIP-447 (sendOffsets carries no group
 * generation), so zombie fencing comes from the transactional id: it names
 * the group, topic and partition, so whichever member owns the partition next
 * initialises the same id, which bumps the epoch and fences the previous
 * owner's producer; the broker aborts its open transaction.
 *
 * A commit whose reply did not arrive (the coordinator moved or stopped, the
 * request timed out) may have committed. Such a batch is never sent again as
 * a new transaction: before the partition's next attempt, a new producer
 * initialises the id, which settles the earlier transaction one way or the
 * other, and the group's committed offset then says which. kafkajs cannot
 * retry a failed EndTxn itself (its commit() leaves the transaction in
 * COMMITTING, where neither commit nor abort is allowed), so settling through
 * a new producer is the one way through that works with this client.
 */
export class PartitionTransactions {
  private readonly client: TransactionalClient;
  private readonly groupId: string;
  private readonly logger: Logger;
  private readonly producers = new Map<string, Promise<TransactionalProducer>>();
  /** Partitions whose last commit's outcome is unknown. */
  private readonly unsettled = new Set<string>();

  constructor(client: TransactionalClient, groupId: string, logger: Logger) {
    this.client = client;
    this.groupId = groupId;
    this.logger = logger;
  }

  transactionalId(topic: string, partition: number): string {
    return `${this.groupId}.${topic}.${partition}`;
  }

  /**
   * Runs `send` inside a transaction that also commits the group's offset
   * `nextOffset` for the input partition; commits both or neither. A failed
   * attempt throws kelt's error classes: StaleBatchError when fenced,
   * TransientError otherwise (retry the batch: the next attempt settles an
   * unknown outcome first).
   */
  async run(topic: string, partition: number, nextOffset: string, send: (sink: RecordSink) => Promise<void>): Promise<TransactionOutcome> {
    const key = `${topic}:${partition}`;
    if (this.unsettled.has(key) && (await this.committedEarlier(key, topic, partition, nextOffset))) return 'committed-earlier';
    const producer = await this.producerFor(key, topic, partition);
    let tx: OpenTransaction | undefined;
    try {
      tx = await producer.transaction();
      await send(tx.sink);
      await tx.sendOffsets(this.groupId, topic, partition, nextOffset);
    } catch (error) {
      // Nothing asked to commit: aborting (or the next producer's
      // initialisation, when the abort fails too) leaves nothing behind.
      await this.discard(key, producer, tx);
      throw classifyKafkaError(error, `transaction of ${topic}[${partition}]`);
    }
    try {
      await tx.commit();
    } catch (error) {
      await this.discard(key, producer, undefined);
      const classified = classifyKafkaError(error, `committing the transaction of ${topic}[${partition}]`);
      // Fenced: the new owner's producer settled it and resumes from the group's offset.
      if (classified instanceof StaleBatchError) throw classified;
      this.unsettled.add(key);
      throw new TransientError(
        `the commit of ${topic}[${partition}]'s transaction got no answer; it is settled before the batch runs again`,
        { cause: error },
      );
    }
    return 'committed';
  }

  /** Closes the producers of partitions this member no longer owns. */
  async retain(owned: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    const keep = new Set(owned.map(({ topic, partition }) => `${topic}:${partition}`));
    const released = [...this.producers.entries()].filter(([key]) => !keep.has(key));
    for (const [key] of released) this.producers.delete(key);
    for (const key of [...this.unsettled]) if (!keep.has(key)) this.unsettled.delete(key);
    await Promise.all(released.map(async ([, producer]) => (await producer).disconnect()));
  }

  async close(): Promise<void> {
    await this.retain([]);
    await this.client.close();
  }

  /**
   * Settles an unknown commit: a new producer's initialisation completes or
   * aborts it, then the group's offset tells whether the batch ending at
   * `nextOffset` is in. Fails (transiently) while the cluster cannot say; the
   * partition stays unsettled until it can.
   */
  private async committedEarlier(key: string, topic: string, partition: number, nextOffset: string): Promise<boolean> {
    try {
      await this.producerFor(key, topic, partition);
      const committed = await this.client.committedOffset(this.groupId, topic, partition);
      this.unsettled.delete(key);
      const landed = committed !== undefined && committed >= BigInt(nextOffset);
      this.logger.info({ partition, committed: committed?.toString(), nextOffset, landed }, 'settled a transaction whose commit got no answer');
      return landed;
    } catch (error) {
      throw classifyKafkaError(error, `settling the unanswered commit of ${topic}[${partition}]`);
    }
  }

  private async discard(key: string, producer: TransactionalProducer, tx: OpenTransaction | undefined): Promise<void> {
    this.producers.delete(key);
    await tx?.abort().catch((abortError: unknown) => this.logger.debug({ err: abortError }, 'abort after a failed transaction'));
    await producer.disconnect().catch((closeError: unknown) => this.logger.debug({ err: closeError }, 'closing a failed producer'));
  }

  private producerFor(key: string, topic: string, partition: number): Promise<TransactionalProducer> {
    let producer = this.producers.get(key);
    if (producer === undefined) {
      producer = this.client.producer(this.transactionalId(topic, partition));
      producer.catch(() => this.producers.delete(key));
      this.producers.set(key, producer);
    }
    return producer;
  }
}

function transactionOf(tx: Transaction): OpenTransaction {
  return {
    sink: { send: (topic, records, partitions) => sendByPartition(tx, topic, records, partitions, { inTransaction: true }) },
    sendOffsets: (consumerGroupId, topic, partition, offset) =>
      tx.sendOffsets({ consumerGroupId, topics: [{ topic, partitions: [{ partition, offset }] }] }),
    commit: () => tx.commit(),
    abort: () => tx.abort(),
  };
}

/** kafkajs as a TransactionalClient. */
export function kafkaTransactionalClient(kafka: Kafka): TransactionalClient {
  let admin: Promise<Admin> | undefined;
  const connectedAdmin = () => {
    if (admin === undefined) {
      const created = kafka.admin();
      admin = created.connect().then(() => created);
      admin.catch(() => (admin = undefined));
    }
    return admin;
  };
  return {
    async producer(transactionalId) {
      const producer = kafka.producer({
        transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: javaCompatiblePartitioner,
        allowAutoTopicCreation: false,
        transactionTimeout: 60_000,
      });
      await producer.connect();
      // kafkajs's connect() initialises only a non-transactional producer id;
      // the transactional id is initialised by the first transaction(). An
      // empty transaction, aborted (no EndTxn is sent for it), initialises it
      // now, as this interface promises: older producers of the id are fenced
      // and their open transaction settled before this returns.
      try {
        const settling = await producer.transaction();
        await settling.abort();
      } catch (error) {
        await producer.disconnect();
        throw error;
      }
      return { transaction: async () => transactionOf(await producer.transaction()), disconnect: () => producer.disconnect() };
    },
    async committedOffset(groupId, topic, partition) {
      const [offsets] = await (await connectedAdmin()).fetchOffsets({ groupId, topics: [topic] });
      const offset = offsets?.partitions.find((p) => p.partition === partition)?.offset;
      return offset === undefined || BigInt(offset) < 0n ? undefined : BigInt(offset);
    },
    async close() {
      const current = admin;
      admin = undefined;
      if (current !== undefined) await (await current).disconnect();
    },
  };
}
