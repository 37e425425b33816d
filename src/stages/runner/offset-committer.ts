import { isRebalanceError } from '../../kafka/errors.ts';
import type { Logger } from '../../log/logger.ts';
import type { PartitionBatch } from '../batch-processor.ts';

/** Commits a partition's offset for the group (outside any transaction). */
export type CommitOffset = (topic: string, partition: number, offset: string) => Promise<void>;

/**
 * The one place a stage's group offsets are committed outside a
 * transaction. Per partition, commits go one after another and only forward:
 * a commit at or below an offset already known committed (by this path or in
 * a transaction) is skipped, so a late commit can never move the group back.
 * Commits requested under an older group generation are dropped: the
 * partition may belong to another member now.
 */
export class OffsetCommitter {
  private readonly commitOffset: CommitOffset;
  private readonly logger: Logger;
  private readonly committed = new Map<string, bigint>();
  private readonly queues = new Map<string, Promise<void>>();
  private generation = 0;

  constructor(commitOffset: CommitOffset, logger: Logger) {
    this.commitOffset = commitOffset;
    this.logger = logger;
  }

  /** The member (re)joined: what it knew of committed offsets may be stale now. */
  joined(generation: number): void {
    this.generation = generation;
    this.committed.clear();
  }

  /**
   * Commits `offset` once the partition's earlier commits are done, unless a
   * higher one is already committed or the generation moved on. Resolves
   * with whether this call committed.
   */
  commit(topic: string, partition: number, offset: string, generation: number): Promise<boolean> {
    const key = `${topic}:${partition}`;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const result = previous.then(async () => {
      if (generation !== this.generation || BigInt(offset) <= (this.committed.get(key) ?? -1n)) return false;
      await this.commitOffset(topic, partition, offset);
      if (generation === this.generation) this.raise(key, offset);
      return true;
    });
    const queued = result.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, queued);
    void queued.then(() => {
      if (this.queues.get(key) === queued) this.queues.delete(key);
    });
    return result;
  }

  /**
   * A batch is processed: its offset went in its Kafka transaction, or is
   * committed here. The batch is in MySQL with its position, which is what a
   * new owner seeks to; a group that moved on only makes this commit moot.
   */
  async batchDone(batch: PartitionBatch, generation: number, inTransaction: boolean): Promise<void> {
    const { topic, partition, nextOffset } = batch;
    if (inTransaction) {
      this.committedInTransaction(topic, partition, nextOffset);
      return;
    }
    try {
      await this.commit(topic, partition, nextOffset, generation);
    } catch (error) {
      if (!isRebalanceError(error)) throw error;
      this.logger.info({ partition, err: error }, 'offset commit refused: the group is rebalancing');
    }
  }

  /**
   * The part of a fetched batch not committed yet. `settle` (a transactional
   * processor's) reads the group's settled offset, which can lie past the
   * batch's start when a transaction landed after the records were fetched
   * again; the records below it are dropped, and undefined means none is left.
   */
  async uncommitted(
    batch: PartitionBatch,
    settle: ((topic: string, partition: number, fetchedFrom: string) => Promise<bigint | undefined>) | undefined,
  ): Promise<PartitionBatch | undefined> {
    const { topic, partition } = batch;
    const committed = await settle?.(topic, partition, batch.messages[0]!.offset);
    if (committed === undefined || BigInt(batch.messages[0]!.offset) >= committed) return batch;
    this.committedInTransaction(topic, partition, committed.toString());
    const rest = batch.messages.filter((message) => BigInt(message.offset) >= committed);
    this.logger.info(
      { partition, from: batch.messages[0]!.offset, committed: committed.toString() },
      'records fetched again are committed already; skipped',
    );
    return rest.length === 0 ? undefined : { ...batch, messages: rest };
  }

  /** An offset committed another way (in a Kafka transaction with the batch's output). */
  committedInTransaction(topic: string, partition: number, offset: string): void {
    this.raise(`${topic}:${partition}`, offset);
  }

  /** Waits until the partition's queued commits have landed or failed (before a transaction of it begins). */
  async settled(topic: string, partition: number): Promise<void> {
    await this.queues.get(`${topic}:${partition}`);
  }

  /** Commits past transaction commit markers; a failure leaves it to the partition's next batch. */
  commitPastMarkers(topic: string, partition: number, offset: string, generation: number): void {
    this.commit(topic, partition, offset, generation).catch((error: unknown) =>
      this.logger.debug({ partition, err: error }, 'committing past commit markers failed; the next batch commits past them'),
    );
  }

  private raise(key: string, offset: string): void {
    const value = BigInt(offset);
    if (value > (this.committed.get(key) ?? -1n)) this.committed.set(key, value);
  }
}
