import { PermanentError } from '../../errors.ts';
import type { PartitionTransactions } from '../../kafka/partition-transactions.ts';
import type { ConsumedRecord } from '../../kafka/records.ts';
import { loneRecordBytes } from '../../kafka/send.ts';
import type { RecordLimitOf } from '../../kafka/topic-limits.ts';
import { writeBatch } from '../../mysql/batch-writer.ts';
import type { MySqlPool } from '../../mysql/pool.ts';
import type { MySqlTable } from '../../mysql/table.ts';
import type { Pipeline } from '../../pipeline/spec.ts';
import type { SchemaRegistryClient } from '../../registry/client.ts';
import type { DeadLetter } from '../dead-letter.ts';
import type avro from 'avsc';
import { avroType } from '../../avro/logical-types.ts';
import { extractedSchema } from '../../pipeline/extracted-schema.ts';
import { isDelete, lastPerKey } from '../../records/record-ops.ts';
import {
  finishPositioned,
  inOffsetOrder,
  positionBatch,
  rowsWrittenBefore,
  type StageDeadLetterLog,
  type StagePositions,
} from '../mysql-stage-batch.ts';
import type { BatchAbilities, BatchReport, PartitionBatch, TopicPartition } from '../batch-processor.ts';
import { TransactionalProcessor } from '../transactional-processor.ts';

/** What a record does to the staging table: upserts `row`, or (without one) deletes the row with `key`. */
interface Staged {
  message: ConsumedRecord;
  key: unknown[];
  row?: unknown[];
}

/** What a LoadProcessor works with. */
export interface LoadProcessorParts {
  pipeline: Pipeline;
  registry: Pick<SchemaRegistryClient, 'decodeAvroAs'>;
  mysql: MySqlPool;
  /** The staging table. */
  table: MySqlTable;
  transactions: PartitionTransactions;
  positions: StagePositions;
  deadLetterLog: StageDeadLetterLog;
  /** The largest record each topic accepts: a record the loaded topic would refuse is dead-lettered before it is written. */
  recordLimitOf: RecordLimitOf;
}

/**
 * load: extracted records → batched multi-row upserts into the staging table
 * → forwarded, byte for byte and with their headers (a delete's, the raw
 * origin extract stamped: see record-origin.ts), to `<p>.loaded`.
 *
 * Exactly once in both places, across crashes and rebalances: one MySQL
 * transaction writes the rows, logs the batch's dead letters and moves the
 * partition's MySQL position (compare and set: a member that lost the
 * partition cannot write); then one Kafka transaction forwards the records,
 * sends the dead letters and commits the group's offset. The group's Kafka
 * offset marks what has been forwarded, MySQL's position what has been
 * staged, which is never less. A batch starting below the MySQL position
 * (a member stopped between the two commits) forwards those records without
 * writing them again, and takes their dead letters from the log.
 */
export class LoadProcessor extends TransactionalProcessor {
  private readonly pipeline: Pipeline;
  private readonly registry: LoadProcessorParts['registry'];
  private readonly mysql: MySqlPool;
  private readonly table: MySqlTable;
  /** The extracted schema of the running spec: older records read with it get the defaults of fields added since. */
  private readonly reader: avro.Type;
  private readonly positions: StagePositions;
  private readonly deadLetterLog: StageDeadLetterLog;
  private readonly recordLimitOf: RecordLimitOf;

  constructor(parts: LoadProcessorParts) {
    super(parts.transactions);
    this.pipeline = parts.pipeline;
    this.registry = parts.registry;
    this.mysql = parts.mysql;
    this.table = parts.table;
    this.reader = avroType(extractedSchema(parts.pipeline.source.schema) as avro.Schema);
    this.positions = parts.positions;
    this.deadLetterLog = parts.deadLetterLog;
    this.recordLimitOf = parts.recordLimitOf;
  }

  async processBatch(batch: PartitionBatch, { deadLetters }: BatchAbilities): Promise<BatchReport> {
    const positioned = await positionBatch(this.positions, this.deadLetterLog, batch);
    const { written, pending, writtenLetters } = positioned;
    const staged: Staged[] = [];
    const dead: DeadLetter[] = [];
    const recordLimit = await this.recordLimitOf(this.pipeline.topics.loaded);
    for (const message of pending) {
      try {
        const bytes = loneRecordBytes(message);
        // The loaded topic's limit may be below the extracted one's: such a record is neither staged nor forwarded.
        if (bytes > recordLimit) {
          throw new PermanentError(`the record (${bytes} bytes) exceeds ${this.pipeline.topics.loaded}'s max.message.bytes (${recordLimit})`, {
            reason: 'record_too_large',
          });
        }
        staged.push(await this.stage(message));
      } catch (error) {
        if (!(error instanceof PermanentError)) throw error;
        dead.push({ topic: batch.topic, partition: batch.partition, message, reason: error.reason ?? 'undecodable', error: error.message });
      }
    }
    const next = batch.nextOffset;
    let mysqlSeconds = 0;
    if (pending.length > 0) {
      const mysqlStarted = performance.now();
      // Without deletes, upserts alone already apply in order (a later row of a key wins within a statement).
      const last = staged.some((item) => item.row === undefined) ? lastPerKey(staged, (item) => JSON.stringify(item.key)) : undefined;
      const rejected = await writeBatch(
        this.mysql,
        last === undefined ? staged : staged.filter((item) => last.has(item)),
        async (connection, items) => {
          const deletes = items.filter((item) => item.row === undefined).map((item) => item.key);
          if (deletes.length > 0) await this.table.delete(connection, deletes, this.pipeline.batch.insertRows);
          const rows = items.flatMap((item) => (item.row === undefined ? [] : [item.row]));
          if (rows.length > 0) await this.table.upsert(connection, rows, this.pipeline.batch.insertRows);
        },
        async (connection, rejected) => {
          deadLetters.admit(pending.length, [...dead.map((letter) => letter.reason), ...rejected.map(() => 'row_rejected' as const)]);
          await finishPositioned(connection, { positions: this.positions, log: this.deadLetterLog }, batch, { dead, rejected });
        },
      );
      this.positions.advanced(batch.partition, next);
      mysqlSeconds = (performance.now() - mysqlStarted) / 1000;
      for (const { item, error } of rejected) {
        dead.push({ topic: batch.topic, partition: batch.partition, message: item.message, reason: 'row_rejected', error });
      }
    }
    const letters = inOffsetOrder([...writtenLetters, ...dead]);
    const deadOffsets = new Set(letters.map((letter) => letter.message.offset));
    const forwards = [...written, ...pending]
      .filter((message) => !deadOffsets.has(message.offset))
      .map((message) => ({ key: message.key, value: message.value, timestamp: message.timestamp, headers: message.headers }));
    const kafkaStarted = performance.now();
    await this.transactions.run(batch.topic, batch.partition, next, async (sink) => {
      await sink.send(this.pipeline.topics.loaded, forwards, this.pipeline.partitions);
      await deadLetters.send(sink, letters);
    });
    return {
      produced: forwards.length,
      written: rowsWrittenBefore(positioned) + pending.length - dead.length,
      deadLettered: letters.map((letter) => letter.reason),
      mysqlSeconds,
      kafkaSeconds: (performance.now() - kafkaStarted) / 1000,
    };
  }

  /**
   * A record as what it does to the staging table: its row to upsert, or
   * the key of the row it deletes (a tombstone's key is that row's primary key).
   */
  private async stage(message: ConsumedRecord): Promise<Staged> {
    if (message.value === null) {
      if (!isDelete(message) || message.key === null) throw new PermanentError('the record has no value', { reason: 'undecodable' });
      const field = this.pipeline.staging.primaryKey[0]!;
      return { message, key: this.table.keyOf({ [field]: message.key.toString('utf8') }) };
    }
    const record = (await this.registry.decodeAvroAs(message.value, this.reader)) as Record<string, unknown>;
    if (isDelete(message)) return { message, key: this.table.keyOf(record) };
    const row = this.rowOf(record);
    return { message, row, key: this.table.keyOfRow(row) };
  }

  /** The record as the staging row; a value no column of its type can hold (a string past its VARCHAR) rejects the row. */
  private rowOf(record: Record<string, unknown>): unknown[] {
    try {
      return this.table.rowOf(record);
    } catch (error) {
      if (!(error instanceof PermanentError) || error.reason !== undefined) throw error;
      throw new PermanentError(error.message, { cause: error, reason: 'row_rejected' });
    }
  }

  override async onAssignment(owned: TopicPartition[]): Promise<void> {
    await super.onAssignment(owned);
    await this.positions.assigned(owned.map(({ partition }) => partition));
  }

  async close(): Promise<void> {
    await this.transactions.close();
    await this.mysql.end();
  }
}
