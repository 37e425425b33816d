import type avro from 'avsc';
import { avroType } from '../../avro/logical-types.ts';
import { PermanentError } from '../../errors.ts';
import type { ConsumedRecord, RecordSink } from '../../kafka/records.ts';
import { loneRecordBytes } from '../../kafka/send.ts';
import type { RecordLimitOf } from '../../kafka/topic-limits.ts';
import type { MySqlTable } from '../../mysql/table.ts';
import { extractedSchema } from '../../pipeline/extracted-schema.ts';
import type { Pipeline } from '../../pipeline/spec.ts';
import { isDelete, lastPerKey } from '../../records/record-ops.ts';
import type { SchemaRegistryClient } from '../../registry/client.ts';
import type { PartitionBatch } from '../batch-processor.ts';
import type { DeadLetter } from '../dead-letter.ts';
import { MySqlStage, type MySqlStageParts, type MySqlWork } from '../mysql-stage.ts';

/** What a record does to the staging table: upserts `row`, or (without one) deletes the row with `key`. */
interface Staged {
  message: ConsumedRecord;
  key: unknown[];
  row?: unknown[];
}

/** What a LoadProcessor works with. */
export interface LoadProcessorParts extends MySqlStageParts {
  pipeline: Pipeline;
  registry: Pick<SchemaRegistryClient, 'decodeAvroAs'>;
  /** The staging table. */
  table: MySqlTable;
  /** The largest record each topic accepts: a record the loaded topic would refuse is dead-lettered before it is written. */
  recordLimitOf: RecordLimitOf;
}

/**
 * load: extracted records → batched multi-row upserts into the staging table
 * → forwarded, byte for byte and with their headers (a delete's, the raw
 * origin extract stamped: see record-origin.ts), to `<p>.loaded`.
 *
 * Exactly once in both places, across crashes and rebalances (mysql-stage.ts):
 * a batch starting below the MySQL position (a member stopped between the two
 * commits) forwards those records without staging them again.
 */
export class LoadProcessor extends MySqlStage<Staged> {
  private readonly pipeline: Pipeline;
  private readonly registry: LoadProcessorParts['registry'];
  private readonly table: MySqlTable;
  /** The extracted schema of the running spec: older records read with it get the defaults of fields added since. */
  private readonly reader: avro.Type;
  private readonly recordLimitOf: RecordLimitOf;

  constructor(parts: LoadProcessorParts) {
    super(parts);
    this.pipeline = parts.pipeline;
    this.registry = parts.registry;
    this.table = parts.table;
    this.reader = avroType(extractedSchema(parts.pipeline.source.schema) as avro.Schema);
    this.recordLimitOf = parts.recordLimitOf;
  }

  protected async prepare(batch: PartitionBatch, pending: ConsumedRecord[]): Promise<MySqlWork<Staged>> {
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
    // Without deletes, upserts alone already apply in order (a later row of a key wins within a statement).
    const last = staged.some((item) => item.row === undefined) ? lastPerKey(staged, (item) => JSON.stringify(item.key)) : undefined;
    const rowsPerStatement = this.pipeline.batch.insertRows;
    return {
      items: staged,
      dead,
      write: async (connection, items) => {
        const live = last === undefined ? items : items.filter((item) => last.has(item));
        const deletes = live.filter((item) => item.row === undefined).map((item) => item.key);
        if (deletes.length > 0) await this.table.delete(connection, deletes, rowsPerStatement);
        const rows = live.flatMap((item) => (item.row === undefined ? [] : [item.row]));
        if (rows.length > 0) await this.table.upsert(connection, rows, rowsPerStatement);
      },
    };
  }

  /** Forwards the records byte for byte, with their headers, to the loaded topic. */
  protected override async forward(sink: RecordSink, live: readonly ConsumedRecord[]): Promise<number> {
    const forwards = live.map((message) => ({ key: message.key, value: message.value, timestamp: message.timestamp, headers: message.headers }));
    await sink.send(this.pipeline.topics.loaded, forwards, this.pipeline.partitions);
    return forwards.length;
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

  async close(): Promise<void> {
    await this.transactions.close();
    await this.mysql.end();
  }
}
