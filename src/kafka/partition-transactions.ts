import { StaleBatchError, TransientError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { classifyKafkaError } from './errors.ts';
import type { RecordSink } from './records.ts';

/** An open transaction: output, the group's offset, then commit or abort. */
export interface OpenTransaction {
  sink: RecordSink;
  /** Commits the group's offset in the transaction; `topicId` goes with it (the offset's metadata), naming the topic it is an offset of. */
  sendOffsets(offset: GroupOffset): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** A group's next offset for an input partition, and the id of the topic it is an offset of (committed as the offset's metadata). */
export interface GroupOffset {
  groupId: string;
  topic: string;
  partition: number;
  nextOffset: string;
  topicId: string | undefined;
}

export interface TransactionalProducer {
  transaction(): Promise<OpenTransaction>;
  disconnect(): Promise<void>;
}

export interface CommittedPosition {
  offset: bigint;
  /** The id of the topic the offset was committed for; undefined for an offset committed without one (before kelt stamped it). */
  topicId: string | undefined;
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
  /** The group's committed offset for a partition, and the topic id committed with it; undefined when it has none. */
  committedPosition(groupId: string, topic: string, partition: number): Promise<CommittedPosition | undefined>;
  /** The topic's id (KIP-516); undefined when the cluster has none. */
  topicId(topic: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * Kafka transactions for read-process-write, one transactional producer per
 * input partition. kafkajs predates KIP-447 (sendOffsets carries no group
 * generation), so zombie fencing comes from the transactional id: it names
 * the group, topic and partition, so whichever member owns the partition next
 * initialises the same id, which bumps the epoch and fences the previous
 * owner's producer; the broker aborts its open transaction.
 *
 * Before a partition's first transaction on a producer, `settle` has that
 * producer initialise the id, which fences every older producer of it and
 * completes or aborts whatever transaction they left, then reads the group's
 * committed offset. From then on this member is the only one committing the
 * partition, so it knows the offset exactly, and the caller drops every
 * record below it from what it fetched. That covers the transaction an older
 * owner (or this member, before a restart of its consumer) committed after
 * the records were fetched again, and a commit whose reply did not arrive
 * (the coordinator moved or stopped, the request timed out): its producer is
 * dropped, and the next attempt settles it through a new one. kafkajs cannot
 * retry a failed EndTxn itself (its commit() leaves the transaction in
 * COMMITTING, where neither commit nor abort is allowed), so settling through
 * a new producer is the one way through that works with this client.
 */
export class PartitionTransactions {
  private readonly client: TransactionalClient;
  private readonly groupId: string;
  private readonly logger: Logger;
  private readonly producers = new Map<string, Promise<TransactionalProducer>>();
  /** The group's committed offset of each partition settled by this member's producer. */
  private readonly committed = new Map<string, bigint>();
  /** Each input topic's id as last read: committed with every offset, and compared with the one an offset was committed with. */
  private readonly topicIds = new Map<string, string | undefined>();

  constructor(client: TransactionalClient, groupId: string, logger: Logger) {
    this.client = client;
    this.groupId = groupId;
    this.logger = logger;
  }

  transactionalId(topic: string, partition: number): string {
    return `${this.groupId}.${topic}.${partition}`;
  }

  /**
   * The group's committed offset of the partition: the records below it are
   * done, and the caller must drop them from what it fetched. Initialises a
   * producer for the partition first when it has none (its first batch, or
   * the last one failed): that fences older producers and settles what they
   * left. Undefined when the group has no offset yet, or only one committed
   * for another topic of the same name (deleted and created again: its
   * offsets start over). `fetchedFrom`, the first offset of the batch about
   * to run: below the offset this member committed, it is a batch fetched
   * again or a topic created anew, and the topic's id says which. Fails
   * (transiently) while the cluster cannot say.
   */
  async settle(topic: string, partition: number, fetchedFrom?: string): Promise<bigint | undefined> {
    const key = `${topic}:${partition}`;
    if (!this.producers.has(key)) {
      const made = this.producerFor(key, topic, partition);
      try {
        await made;
        const current = await this.readTopicId(topic);
        const position = await this.client.committedPosition(this.groupId, topic, partition);
        const ours = position !== undefined && (position.topicId === undefined || current === undefined || position.topicId === current);
        if (ours) this.committed.set(key, position.offset);
        else this.committed.delete(key);
        this.logger.debug(
          {
            partition,
            committed: position?.offset.toString(),
            ...(position !== undefined && !ours ? { ofTopic: position.topicId, topicId: current } : {}),
          },
          'settled the partition’s transactions',
        );
      } catch (error) {
        // Unsettled without its offset: the next attempt starts over with a new producer.
        this.producers.delete(key);
        await made
          .then((producer) => producer.disconnect())
          .catch((closeError: unknown) => this.logger.debug({ err: closeError }, 'closing an unsettled producer'));
        throw classifyKafkaError(error, `settling the transactions of ${topic}[${partition}]`);
      }
    } else if (fetchedFrom !== undefined && BigInt(fetchedFrom) < (this.committed.get(key) ?? -1n)) {
      const known = this.topicIds.get(topic);
      const current = await this.readTopicId(topic).catch((error: unknown) => {
        throw classifyKafkaError(error, `reading the id of ${topic}`);
      });
      if (known !== undefined && current !== known) {
        this.logger.info({ partition, topicId: current, was: known }, 'the input topic was created anew: its offsets start over');
        for (const other of [...this.committed.keys()]) if (other.startsWith(`${topic}:`)) this.committed.delete(other);
      }
    }
    return this.committed.get(key);
  }

  /** Partitions whose group offset was committed for another topic of the same name (created anew since): the consumer must start them over. */
  async committedForOtherTopic(topic: string, partitions: readonly number[]): Promise<number[]> {
    const current = await this.readTopicId(topic);
    if (current === undefined) return [];
    const stale: number[] = [];
    for (const partition of partitions) {
      const position = await this.client.committedPosition(this.groupId, topic, partition);
      if (position?.topicId !== undefined && position.topicId !== current) stale.push(partition);
    }
    return stale;
  }

  private async readTopicId(topic: string): Promise<string | undefined> {
    const id = await this.client.topicId(topic);
    this.topicIds.set(topic, id);
    return id;
  }

  /**
   * Runs `send` inside a transaction that also commits the group's offset
   * `nextOffset` for the input partition; commits both or neither. A failed
   * attempt throws kelt's error classes: StaleBatchError when fenced,
   * TransientError otherwise (retry the batch, after `settle`).
   */
  async run(topic: string, partition: number, nextOffset: string, send: (sink: RecordSink) => Promise<void>): Promise<void> {
    const key = `${topic}:${partition}`;
    const producer = await this.producers.get(key);
    if (producer === undefined) throw new Error(`${topic}[${partition}] is not settled: settle it before its next transaction`);
    let tx: OpenTransaction | undefined;
    try {
      tx = await producer.transaction();
      await send(tx.sink);
      await tx.sendOffsets({ groupId: this.groupId, topic, partition, nextOffset, topicId: this.topicIds.get(topic) });
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
      throw new TransientError(`the commit of ${topic}[${partition}]'s transaction got no answer; it is settled before the batch runs again`, {
        cause: error,
      });
    }
    this.committed.set(key, BigInt(nextOffset));
  }

  /**
   * Moves the group's offset of the partition to `nextOffset` in a
   * transaction of its own, unless it is there already: for a range with
   * nothing to process (transaction markers, aborted records). Committing it
   * outside the partition's transactions could move the group back: the
   * group coordinator keeps whichever commit it wrote last, so a plain
   * commit that lands after a transaction's offsets overrides them, however
   * far they went.
   */
  async commitPast(topic: string, partition: number, nextOffset: string): Promise<void> {
    const committed = await this.settle(topic, partition);
    if (committed !== undefined && committed >= BigInt(nextOffset)) return;
    await this.run(topic, partition, nextOffset, async () => undefined);
  }

  /** Closes the producers of partitions this member no longer owns. */
  async retain(owned: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    const keep = new Set(owned.map(({ topic, partition }) => `${topic}:${partition}`));
    const released = [...this.producers.entries()].filter(([key]) => !keep.has(key));
    for (const [key] of released) this.producers.delete(key);
    for (const key of [...this.committed.keys()]) if (!keep.has(key)) this.committed.delete(key);
    await Promise.all(released.map(async ([, producer]) => (await producer).disconnect()));
  }

  async close(): Promise<void> {
    await this.retain([]);
    await this.client.close();
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
