import { workerFile } from '../../runtime/project-files.ts';
import type { ConsumedRecord, RecordSink } from '../../kafka/records.ts';
import { writeBatch } from '../../mysql/batch-writer.ts';
import { advanceOffset, readOffsets } from '../../mysql/offset-writer.ts';
import type { MySqlPool } from '../../mysql/pool.ts';
import type { MySqlTable } from '../../mysql/table.ts';
import type { Pipeline } from '../../pipeline/spec.ts';
import { writerSchemasOf, type SchemaRegistryClient } from '../../registry/client.ts';
import type { Row } from '../../transform/contract.ts';
import type { WorkerPool } from '../../workers/worker-pool.ts';
import { chunk } from '../chunks.ts';
import { packBytes, transferablesOf } from '../../workers/packed-bytes.ts';
import type { DeadLetter } from '../dead-letter.ts';
import { emptyReport, type BatchAbilities, type BatchProcessor, type BatchReport, type PartitionBatch, type TopicPartition } from '../stage-runner.ts';
import type { TransformOutcome, TransformTask } from './transform-task.ts';

export const transformWorkerFile = workerFile('transform-worker');

interface Transformed {
  message: ConsumedRecord;
  rows: Record<string, Row[]>;
}

/**
 * transform: loaded records → cut into chunks that run in parallel in the
 * worker pool (the pipeline's transform module) → rows upserted into the
 * model tables in partition order, with the partition's position, in one
 * MySQL transaction.
 *
 * Exactly once into MySQL: the position in kelt_offsets is the truth. On
 * assignment the member reads it and seeks there; records below it are
 * skipped (a fetch can race the seek); and a batch moves the position only
 * from where this member read it, so a batch of a member that lost the
 * partition in a rebalance rolls back instead of applying twice. Dead
 * letters are sent (acks=all) before the MySQL commit, so none is lost; a
 * crash between the two can repeat one, recognisable by its
 * `kelt.original.*` headers.
 */
function letterOf(batch: PartitionBatch, message: ConsumedRecord) {
  return { topic: batch.topic, partition: batch.partition, message };
}

export class TransformProcessor implements BatchProcessor {
  readonly commitsOffsets = false;
  /** Next offset per owned partition, as stored in MySQL; absent: nothing stored yet. */
  private readonly positions = new Map<number, bigint>();
  private readonly pipeline: Pipeline;
  private readonly registry: SchemaRegistryClient;
  private readonly mysql: MySqlPool;
  private readonly tables: readonly MySqlTable[];
  private readonly pool: WorkerPool<TransformTask, TransformOutcome[]>;
  private readonly groupId: string;
  private readonly producer: RecordSink;

  constructor(
    pipeline: Pipeline,
    registry: SchemaRegistryClient,
    mysql: MySqlPool,
    tables: readonly MySqlTable[],
    pool: WorkerPool<TransformTask, TransformOutcome[]>,
    producer: RecordSink,
    groupId: string,
  ) {
    this.producer = producer;
    this.pipeline = pipeline;
    this.registry = registry;
    this.mysql = mysql;
    this.tables = tables;
    this.pool = pool;
    this.groupId = groupId;
  }

  async onAssignment(owned: TopicPartition[], seek: (partition: number, offset: string) => void): Promise<void> {
    const partitions = owned.map(({ partition }) => partition);
    const stored = await readOffsets(this.mysql, this.groupId, this.pipeline.topics.loaded, partitions);
    this.positions.clear();
    for (const [partition, offset] of stored) {
      this.positions.set(partition, offset);
      seek(partition, offset.toString());
    }
  }

  async processBatch(batch: PartitionBatch, { deadLetters }: BatchAbilities): Promise<BatchReport> {
    const from = this.positions.get(batch.partition);
    const messages = from === undefined ? batch.messages : batch.messages.filter((m) => BigInt(m.offset) >= from);
    if (messages.length === 0) return emptyReport();
    const writerSchemas = await writerSchemasOf(this.registry, messages.map((message) => message.value));
    const chunks = chunk(messages, this.pipeline.batch.chunkRecords);
    const results = await Promise.all(
      chunks.map((messages) => {
        const values = packBytes(messages.map((message) => message.value));
        return this.pool.run({ modulePath: this.pipeline.transform.modulePath, writerSchemas, values }, transferablesOf(values));
      }),
    );
    const transformed: Transformed[] = [];
    const dead: DeadLetter[] = [];
    const known = new Set(this.tables.map((table) => table.name));
    results.flat().forEach((outcome, i) => {
      const message = messages[i]!;
      const letter = letterOf(batch, message);
      if (!outcome.ok) return dead.push({ ...letter, reason: outcome.reason, error: outcome.error });
      const unknown = Object.keys(outcome.rows).filter((table) => !known.has(table));
      if (unknown.length > 0) {
        return dead.push({ ...letter, reason: 'transform_error', error: `the transform wrote to undeclared table(s) ${unknown.join(', ')}` });
      }
      return transformed.push({ message, rows: outcome.rows });
    });
    await deadLetters.send(this.producer, dead);
    const next = batch.nextOffset;
    const mysqlStarted = performance.now();
    const rejected = await writeBatch(
      this.mysql,
      transformed,
      async (connection, items) => {
        for (const table of this.tables) {
          const rows = items.flatMap((item) => (item.rows[table.name] ?? []).map((row) => table.rowOf(row)));
          if (rows.length > 0) await table.upsert(connection, rows, this.pipeline.batch.insertRows);
        }
      },
      async (connection, rejected) => {
        // Before the commit, like every dead letter of this stage.
        await deadLetters.send(
          this.producer,
          rejected.map(({ item, error }) => ({ ...letterOf(batch, item.message), reason: 'row_rejected', error })),
        );
        await advanceOffset(connection, this.groupId, batch.topic, batch.partition, from, next);
      },
    );
    this.positions.set(batch.partition, BigInt(next));
    return {
      produced: 0,
      written: transformed.length - rejected.length,
      deadLettered: [...dead.map((letter) => letter.reason), ...rejected.map(() => 'row_rejected')],
      mysqlSeconds: (performance.now() - mysqlStarted) / 1000,
    };
  }

  async close(): Promise<void> {
    await this.pool.close();
    await this.mysql.end();
  }
}
