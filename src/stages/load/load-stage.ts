import type { KafkaMessage, Producer } from 'kafkajs';
import { PermanentError } from '../../errors.ts';
import { writeBatch } from '../../mysql/batch-writer.ts';
import { writeOffset } from '../../mysql/offset-writer.ts';
import type { MySqlPool } from '../../mysql/pool.ts';
import type { MySqlTable } from '../../mysql/table.ts';
import type { Pipeline } from '../../pipeline/spec.ts';
import type { SchemaRegistryClient } from '../../registry/client.ts';
import type { DeadLetter } from '../dead-letter.ts';
import type { BatchAbilities, BatchProcessor, PartitionBatch } from '../stage-runner.ts';

interface Staged {
  message: KafkaMessage;
  row: unknown[];
}

/**
 * load: extracted records → batched multi-row upserts into the staging table
 * (the partition's position recorded in the same transaction) → forwarded,
 * byte for byte, to `<p>.loaded`.
 */
export class LoadProcessor implements BatchProcessor {
  private readonly pipeline: Pipeline;
  private readonly registry: SchemaRegistryClient;
  private readonly mysql: MySqlPool;
  private readonly table: MySqlTable;
  private readonly producer: Producer;
  private readonly groupId: string;

  constructor(
    pipeline: Pipeline,
    registry: SchemaRegistryClient,
    mysql: MySqlPool,
    table: MySqlTable,
    producer: Producer,
    groupId: string,
  ) {
    this.pipeline = pipeline;
    this.registry = registry;
    this.mysql = mysql;
    this.table = table;
    this.producer = producer;
    this.groupId = groupId;
  }

  async processBatch(batch: PartitionBatch, { deadLetters }: BatchAbilities): Promise<void> {
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
    const next = (BigInt(batch.messages.at(-1)!.offset) + 1n).toString();
    const rejected = await writeBatch(this.mysql, staged, async (connection, items) => {
      await this.table.upsert(connection, items.map((item) => item.row), this.pipeline.batch.insertRows);
      await writeOffset(connection, this.groupId, batch.topic, batch.partition, next);
    });
    const rejectedMessages = new Set(rejected.map(({ item }) => item.message));
    for (const { item, error } of rejected) {
      dead.push({ topic: batch.topic, partition: batch.partition, message: item.message, reason: 'row_rejected', error });
    }
    const loaded = staged.filter(({ message }) => !rejectedMessages.has(message));
    if (loaded.length > 0) {
      await this.producer.send({
        topic: this.pipeline.topics.loaded,
        acks: -1,
        messages: loaded.map(({ message }) => ({ key: message.key, value: message.value })),
      });
    }
    await deadLetters.send(dead);
  }

  async close(): Promise<void> {
    await this.mysql.end();
  }
}
