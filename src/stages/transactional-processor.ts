import type { PartitionTransactions } from '../kafka/partition-transactions.ts';
import type { BatchAbilities, BatchProcessor, BatchReport, PartitionBatch, TopicPartition } from './batch-processor.ts';

/**
 * What every stage that commits its group's offsets in Kafka transactions
 * with its output shares (extract, load, transform): settling a partition's
 * transactions before a batch, moving the group past ranges with nothing to
 * process in a transaction of the partition's, and keeping producers only for
 * the partitions it owns. A stage supplies how a batch is processed.
 */
export abstract class TransactionalProcessor implements BatchProcessor {
  readonly commitsOffsets = true;
  protected readonly transactions: PartitionTransactions;

  constructor(transactions: PartitionTransactions) {
    this.transactions = transactions;
  }

  abstract processBatch(batch: PartitionBatch, abilities: BatchAbilities): Promise<BatchReport>;

  abstract close(): Promise<void>;

  settle(topic: string, partition: number, fetchedFrom: string): Promise<bigint | undefined> {
    return this.transactions.settle(topic, partition, fetchedFrom);
  }

  commitPast(topic: string, partition: number, nextOffset: string): Promise<void> {
    return this.transactions.commitPast(topic, partition, nextOffset);
  }

  async onAssignment(owned: TopicPartition[], _seek?: (partition: number, offset: string) => void): Promise<void> {
    await this.transactions.retain(owned);
  }
}
