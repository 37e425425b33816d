import type { KafkaMessage } from 'kafkajs';
import { writeBatch } from '../../mysql/batch-writer.ts';
import { writeOffset } from '../../mysql/offset-writer.ts';
import type { MySqlPool } from '../../mysql/pool.ts';
import type { MySqlTable } from '../../mysql/table.ts';
import type { Pipeline } from '../../pipeline/spec.ts';
import { writerSchemasOf, type SchemaRegistryClient } from '../../registry/client.ts';
import type { Row } from '../../transform/contract.ts';
import type { WorkerPool } from '../../workers/worker-pool.ts';
import { chunk } from '../chunks.ts';
import type { DeadLetter } from '../dead-letter.ts';
import type { BatchAbilities, BatchProcessor, PartitionBatch } from '../stage-runner.ts';
import type { TransformOutcome, TransformTask } from './transform-task.ts';

export const transformWorkerFile = new URL('../../../workers/transform-worker.ts', import.meta.url);

interface Transformed {
  message: KafkaMessage;
  rows: Record<string, Row[]>;
}

/**
 * transform: loaded records → cut into chunks that run in parallel in the
 * worker pool (the pipeline's transform module) → rows upserted into the
 * model tables in partition order, with the partition's position, in one
 * transaction.
 */
export class TransformProcessor implements BatchProcessor {
  private readonly pipeline: Pipeline;
  private readonly registry: SchemaRegistryClient;
  private readonly mysql: MySqlPool;
  private readonly tables: readonly MySqlTable[];
  private readonly pool: WorkerPool<TransformTask, TransformOutcome[]>;
  private readonly groupId: string;

  constructor(
    pipeline: Pipeline,
    registry: SchemaRegistryClient,
    mysql: MySqlPool,
    tables: readonly MySqlTable[],
    pool: WorkerPool<TransformTask, TransformOutcome[]>,
    groupId: string,
  ) {
    this.pipeline = pipeline;
    this.registry = registry;
    this.mysql = mysql;
    this.tables = tables;
    this.pool = pool;
    this.groupId = groupId;
  }

  async processBatch(batch: PartitionBatch, { deadLetters }: BatchAbilities): Promise<void> {
    const writerSchemas = await writerSchemasOf(this.registry, batch.messages.map((message) => message.value));
    const chunks = chunk(batch.messages, this.pipeline.batch.chunkRecords);
    const results = await Promise.all(
      chunks.map((messages) =>
        this.pool.run({
          modulePath: this.pipeline.transform.modulePath,
          writerSchemas,
          values: messages.map((message) => message.value),
        }),
      ),
    );
    const transformed: Transformed[] = [];
    const dead: DeadLetter[] = [];
    const known = new Set(this.tables.map((table) => table.name));
    results.flat().forEach((outcome, i) => {
      const message = batch.messages[i]!;
      const letter = { topic: batch.topic, partition: batch.partition, message };
      if (!outcome.ok) return dead.push({ ...letter, reason: outcome.reason, error: outcome.error });
      const unknown = Object.keys(outcome.rows).filter((table) => !known.has(table));
      if (unknown.length > 0) {
        return dead.push({ ...letter, reason: 'transform_error', error: `the transform wrote to undeclared table(s) ${unknown.join(', ')}` });
      }
      return transformed.push({ message, rows: outcome.rows });
    });
    const next = (BigInt(batch.messages.at(-1)!.offset) + 1n).toString();
    const rejected = await writeBatch(this.mysql, transformed, async (connection, items) => {
      for (const table of this.tables) {
        const rows = items.flatMap((item) => (item.rows[table.name] ?? []).map((row) => table.rowOf(row)));
        if (rows.length > 0) await table.upsert(connection, rows, this.pipeline.batch.insertRows);
      }
      await writeOffset(connection, this.groupId, batch.topic, batch.partition, next);
    });
    for (const { item, error } of rejected) {
      dead.push({ topic: batch.topic, partition: batch.partition, message: item.message, reason: 'row_rejected', error });
    }
    await deadLetters.send(dead);
  }

  async close(): Promise<void> {
    await this.pool.close();
    await this.mysql.end();
  }
}
