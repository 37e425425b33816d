import { PermanentError } from '../../errors.ts';
import type { ConsumedRecord } from '../../kafka/records.ts';
import type { Logger } from '../../log/logger.ts';
import type { AppliedOriginStore } from '../../mysql/applied-origins.ts';
import type { MySqlTable } from '../../mysql/table.ts';
import type { Pipeline } from '../../pipeline/spec.ts';
import { originOf, skipRepeats } from '../../records/record-origin.ts';
import { lastPerKey, isDelete } from '../../records/record-ops.ts';
import { writerSchemasOf, type SchemaRegistryClient } from '../../registry/client.ts';
import { workerFile } from '../../runtime/project-files.ts';
import { packBytes, transferablesOf } from '../../threads/packed-bytes.ts';
import type { TransformOutcome, TransformTask } from '../../threads/transform-task.ts';
import type { WorkerPool } from '../../threads/worker-pool.ts';
import type { PartitionBatch, TopicPartition } from '../batch-processor.ts';
import { chunk } from '../chunks.ts';
import type { DeadLetter } from '../dead-letter.ts';
import { MySqlStage, type MySqlStageParts, type MySqlWork } from '../mysql-stage.ts';
import type { AggregateViews, TableOperation } from './aggregate-views.ts';
import { runWatched, type RunChunk } from './watched-chunk.ts';

export const transformWorkerFile = workerFile('transform-worker');

/** What a record does to each model table (in the tables' order): rows to upsert, primary keys to delete. */
interface Transformed {
  message: ConsumedRecord;
  rows: unknown[][][];
  deletes: unknown[][][];
}

/** What a TransformProcessor works with. */
export interface TransformProcessorParts extends MySqlStageParts {
  pipeline: Pipeline;
  registry: Pick<SchemaRegistryClient, 'schemaText'>;
  tables: readonly MySqlTable[];
  pool: WorkerPool<TransformTask, TransformOutcome[]>;
  aggregates: AggregateViews;
  /** What each partition applied from each raw partition: repeats of it are skipped (see record-origin.ts). */
  origins: AppliedOriginStore;
  logger: Logger;
}

/**
 * transform: loaded records → cut into chunks that run in parallel in the
 * worker pool (the pipeline's transform module) → rows upserted into the
 * model tables in partition order, and the aggregates incremented.
 *
 * Exactly once, like load (mysql-stage.ts): records below the MySQL
 * position (a member stopped between the two commits) are not transformed
 * again; their dead letters come from the log. The aggregates move in the
 * same MySQL transaction by what the batch changed in their model tables
 * (aggregate-views.ts): they are those tables grouped, whatever repeats,
 * corrections and deletes the records bring.
 *
 * A record written twice upstream (two copies at different loaded offsets,
 * which the position cannot tell apart) is recognised by its origin and
 * skipped, so that an old copy never writes over a newer row: the applied
 * origins move in the same MySQL transaction as the position.
 */
export class TransformProcessor extends MySqlStage<Transformed> {
  private readonly pipeline: Pipeline;
  private readonly registry: TransformProcessorParts['registry'];
  private readonly tables: readonly MySqlTable[];
  private readonly pool: WorkerPool<TransformTask, TransformOutcome[]>;
  private readonly aggregates: AggregateViews;
  private readonly origins: AppliedOriginStore;
  private readonly logger: Logger;
  /** Partitions whose repeats were logged at warn already (then debug: one duplicated batch is many records). */
  private readonly repeatsLogged = new Set<number>();

  constructor(parts: TransformProcessorParts) {
    super(parts);
    this.pipeline = parts.pipeline;
    this.registry = parts.registry;
    this.tables = parts.tables;
    this.pool = parts.pool;
    this.aggregates = parts.aggregates;
    this.origins = parts.origins;
    this.logger = parts.logger;
  }

  override async onAssignment(owned: TopicPartition[]): Promise<void> {
    await super.onAssignment(owned);
    await this.origins.assigned(owned.map(({ partition }) => partition));
    // On an assignment, not at start: a member that starts while MySQL is away waits for it like any other.
    await this.aggregates.checkDefinitions(this.mysql, this.pipeline.name);
  }

  protected async prepare(batch: PartitionBatch, pending: ConsumedRecord[]): Promise<MySqlWork<Transformed>> {
    const dead: DeadLetter[] = [];
    const { fresh, repeats, malformed, applied } = skipRepeats(pending, await this.origins.of(batch.partition));
    for (const { record, error } of malformed)
      dead.push({ topic: batch.topic, partition: batch.partition, message: record, reason: 'undecodable', error });
    if (repeats.length > 0) this.logRepeats(batch, repeats);
    const transformed = await this.transform(batch, fresh, dead);
    // Without deletes, upserts alone already apply in order (a later row of a key wins within a statement).
    const hasDeletes = transformed.some((item) => item.deletes.some((keys) => keys.length > 0));
    const kept = hasDeletes ? this.tables.map((table, t) => lastOperations(table, transformed, t)) : undefined;
    const rowsPerStatement = this.pipeline.batch.insertRows;
    let lateRows = new Map<string, number>();
    return {
      items: transformed,
      dead,
      skipped: repeats.length,
      write: async (connection, items) => {
        const changes = this.aggregates.enabled
          ? await this.aggregates.lock(
              connection,
              this.tables.map((_, t) => operationsOf(items, t)),
              rowsPerStatement,
            )
          : undefined;
        for (const [t, table] of this.tables.entries()) {
          const live = (operation: unknown[]) => kept === undefined || kept[t]!.has(operation);
          const deletes = items.flatMap((item) => item.deletes[t]!).filter(live);
          if (deletes.length > 0) await table.delete(connection, deletes, rowsPerStatement);
          const rows = items.flatMap((item) => item.rows[t]!).filter(live);
          if (rows.length > 0) await table.upsert(connection, rows, rowsPerStatement);
        }
        // With the rows: a record whose change MySQL refuses (a sum out of range) is refused with its rows.
        if (changes !== undefined) lateRows = await this.aggregates.apply(connection, changes, batch.partition, rowsPerStatement);
      },
      recordApplied: (connection) => this.origins.record(connection, batch.partition, applied),
      committed: () => this.origins.applied(batch.partition, applied),
      abandoned: () => this.origins.forget(batch.partition),
      report: () => ({ repeated: repeats.length, lateRows }),
    };
  }

  private logRepeats(batch: PartitionBatch, repeats: readonly ConsumedRecord[]): void {
    const first = originOf(repeats[0]!);
    const details = {
      partition: batch.partition,
      repeats: repeats.length,
      firstOffset: repeats[0]!.offset,
      origin: first === undefined || 'malformed' in first ? undefined : `${first.topic}/${first.partition}@${first.offset}`,
    };
    const message = 'records already applied from the same raw offsets arrived again (written twice upstream); skipped';
    if (this.repeatsLogged.has(batch.partition)) {
      this.logger.debug(details, message);
      return;
    }
    this.repeatsLogged.add(batch.partition);
    this.logger.warn(details, message);
  }

  /**
   * Runs the transform over `messages` in the pool and turns its rows into
   * SQL parameters; a record whose transform failed, or whose rows no column
   * can hold (a BigInt or a cycle in a json column, an object in a scalar
   * one), joins `dead` instead.
   */
  private async transform(batch: PartitionBatch, messages: ConsumedRecord[], dead: DeadLetter[]): Promise<Transformed[]> {
    const writerSchemas = await writerSchemasOf(
      this.registry,
      messages.map((message) => message.value),
    );
    const limits = { recordMs: this.pipeline.transform.timeoutMs, memoryMb: this.pipeline.pool.memoryMb };
    const run: RunChunk<ConsumedRecord> = (part, progress, signal) => {
      const values = packBytes(part.map((message) => message.value));
      const deletes: TransformTask['deletes'] = {};
      part.forEach((message, i) => {
        if (isDelete(message)) deletes[i] = { key: message.value === null ? (message.key?.toString('utf8') ?? null) : null };
      });
      const task = {
        modulePath: this.pipeline.transform.modulePath,
        writerSchemas,
        values,
        deletes,
        keyField: this.pipeline.staging.primaryKey[0]!,
        progress,
      };
      return this.pool.run(task, transferablesOf(values), signal);
    };
    const results = await Promise.all(chunk(messages, this.pipeline.batch.chunkRecords).map((part) => runWatched(part, run, limits)));
    const known = new Set(this.tables.map((table) => table.name));
    const transformed: Transformed[] = [];
    results.flat().forEach((outcome, i) => {
      const message = messages[i]!;
      const letter = { topic: batch.topic, partition: batch.partition, message };
      if (!outcome.ok) return dead.push({ ...letter, reason: outcome.reason, error: outcome.error });
      const unknown = [...Object.keys(outcome.rows), ...Object.keys(outcome.deletes)].filter((table) => !known.has(table));
      if (unknown.length > 0) {
        return dead.push({ ...letter, reason: 'transform_error', error: `the transform wrote to undeclared table(s) ${unknown.join(', ')}` });
      }
      try {
        const rows = this.tables.map((table) => (outcome.rows[table.name] ?? []).map((row) => table.rowOf(row)));
        transformed.push({ message, rows, deletes: this.tables.map((table) => (outcome.deletes[table.name] ?? []).map((row) => table.keyOf(row))) });
      } catch (error) {
        if (!(error instanceof PermanentError)) throw error;
        dead.push({ ...letter, reason: error.reason ?? 'transform_error', error: error.message });
      }
      return undefined;
    });
    return transformed;
  }

  async close(): Promise<void> {
    await this.transactions.close();
    await this.pool.close();
    await this.mysql.end();
  }
}

/** Table `t`'s operations of the items, in the order lastOperations reads them (a record's delete of a key outlasts its row). */
function operationsOf(items: readonly Transformed[], t: number): TableOperation[] {
  return items.flatMap((item) => [...item.rows[t]!.map((row) => ({ row })), ...item.deletes[t]!.map((key) => ({ key }))]);
}

/** The upserted rows and deleted keys of table `t` that are their key's last operation in the batch. */
function lastOperations(table: MySqlTable, items: readonly Transformed[], t: number): Set<unknown[]> {
  const operations = items.flatMap((item) => [
    ...item.rows[t]!.map((row) => ({ operation: row, key: table.keyOfRow(row) })),
    ...item.deletes[t]!.map((key) => ({ operation: key, key })),
  ]);
  return new Set([...lastPerKey(operations, ({ key }) => JSON.stringify(key))].map(({ operation }) => operation));
}
