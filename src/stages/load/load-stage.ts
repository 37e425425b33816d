import { PermanentError } from '../../errors.ts';
import { writeBatch } from '../../mysql/batch-writer.ts';
import type { PartitionTransactions } from '../../kafka/partition-transactions.ts';
import type { ConsumedRecord } from '../../kafka/records.ts';
import { writeOffsetForward } from '../../mysql/offset-writer.ts';
import type { MySqlPool } from '../../mysql/pool.ts';
import type { MySqlTable } from '../../mysql/table.ts';
import type { Pipeline } from '../../pipeline/spec.ts';
import type { SchemaRegistryClient } from '../../registry/client.ts';
import type { DeadLetter } from '../dead-letter.ts';
import type { BatchAbilities, BatchProcessor, BatchReport, PartitionBatch, TopicPartition } from '../stage-runner.ts';

interface Staged {
  message: ConsumedRecord;
  row: unknown[];
}

/**
 * load: extracted records → batched multi-row upserts into the staging table
 * (the partition's position recorded in the same MySQL transaction) →
 * forwarded, byte for byte, to `<p>.loaded`.
 *
 * Exactly once in both places, across crashes: the MySQL transaction commits
 * first; then the forwarded records, the dead letters and the group's offset
 * commit in one Kafka transaction. The group's Kafka offset therefore marks
 * what has been forwarded, and MySQL's what has been staged, which is never
 * less. After a crash between the two commits the member resumes from the
 * Kafka offset: it forwards those records once (the aborted transaction left
 * nothing downstream) and re-applies their upserts, which write the same
 * bytes to the same keys and leave the MySQL position where it was.
 */
export class LoadProcessor implements BatchProcessor {
  readonly commitsOffsets = true;
  private readonly pipeline: Pipeline;
  private readonly registry: SchemaRegistryClient;
  private readonly mysql: MySqlPool;
  private readonly table: MySqlTable;
  private readonly transactions: PartitionTransactions;
  private readonly groupId: string;

  constructor(
    pipeline: Pipeline,
    registry: SchemaRegistryClient,
    mysql: MySqlPool,
    table: MySqlTable,
    transactions: PartitionTransactions,
    groupId: string,
  ) {
    this.pipeline = pipeline;
    this.registry = registry;
    this.mysql = mysql;
    this.table = table;
    this.transactions = transactions;
    this.groupId = groupId;
  }

  async processBatch(batch: PartitionBatch, { deadLetters }: BatchAbilities): Promise<BatchReport> {
    const staged: Staged[] = [];
    const dead: DeadLetter[] = [];
    for (const message of batch.messages) {
      try {
        if (message.value === null) throw new PermanentError('the record has no value');
        const record = (await this.registry.decodeAvro(message.value)) as Record<string, unknown>;
        staged.push({ message, row: this.table.rowOf(record) });
      } catch (error) {
        if (!(error instanceof PermanentError)) throw error;
        dead.push({ topic: batch.topic, partition: batch.partition, message, reason: 'undecodable', error: error.message });
      }
    }
    const next = batch.nextOffset;
    const mysqlStarted = performance.now();
    const rejected = await writeBatch(
      this.mysql,
      staged,
      (connection, items) => this.table.upsert(connection, items.map((item) => item.row), this.pipeline.batch.insertRows),
      (connection) => writeOffsetForward(connection, this.groupId, batch.topic, batch.partition, next),
    );
    const mysqlSeconds = (performance.now() - mysqlStarted) / 1000;
    const rejectedMessages = new Set(rejected.map(({ item }) => item.message));
    for (const { item, error } of rejected) {
      dead.push({ topic: batch.topic, partition: batch.partition, message: item.message, reason: 'row_rejected', error });
    }
    const loaded = staged.filter(({ message }) => !rejectedMessages.has(message));
    await this.transactions.run(batch.topic, batch.partition, next, async (sink) => {
      const forwards = loaded.map(({ message }) => ({ key: message.key, value: message.value, timestamp: message.timestamp }));
      await sink.send(this.pipeline.topics.loaded, forwards, this.pipeline.partitions);
      await deadLetters.send(sink, dead);
    });
    return { produced: loaded.length, written: loaded.length, deadLettered: dead.map((letter) => letter.reason), mysqlSeconds };
  }

  async onAssignment(owned: TopicPartition[]): Promise<void> {
    await this.transactions.retain(owned);
  }

  async close(): Promise<void> {
    await this.transactions.close();
    await this.mysql.end();
  }
}
