import { ConfigError } from '../../errors.ts';
import { MySqlAggregateTable } from '../../mysql/aggregate-table.ts';
import { classifyMySqlError } from '../../mysql/errors.ts';
import { CanonicalRowReader } from '../../mysql/canonical-rows.ts';
import type { MySqlConnection, MySqlPool } from '../../mysql/pool.ts';
import type { Queryable } from '../../mysql/queryable.ts';
import { MySqlTable, quoteId } from '../../mysql/table.ts';
import { pipelineWatermark, raiseWatermark, type WatermarkScope } from '../../mysql/watermarks.ts';
import type { Aggregate } from '../../pipeline/aggregates.ts';
import { valuesKey } from '../../pipeline/canonical-values.ts';
import { epochMillisFloor } from '../../values/temporal.ts';
import { aggregateDeltas, contributionsOf, sameContributions, type Contribution } from './batch-aggregation.ts';

/** One operation of a batch on a model table, in the batch's order: a row upserted (as parameters), or a primary key deleted. */
export type TableOperation = { row: unknown[] } | { key: unknown[] };

/** A source table of aggregates, and how its rows are read back. */
interface Source {
  /** Its index among the model tables. */
  t: number;
  table: MySqlTable;
  reader: CanonicalRowReader;
  columnIndex: (column: string) => number;
  aggregates: MySqlAggregateTable[];
}

/** Per source table: each key the batch touches, as it was (locked) and as the batch leaves it (null: deleted or absent). */
export type BatchRowChanges = Array<Map<string, { before: unknown[] | null; after: unknown[] | null }>>;

export interface AggregateViewsOptions {
  aggregates: readonly Aggregate[];
  /** The pipeline's model tables, which the aggregates are views of. */
  modelTables: readonly MySqlTable[];
  groupId: string;
  /** The loaded topic's partitions (a final window waits for each partition's watermark). */
  partitions: number;
}

/**
 * The transform's aggregates as views of its model tables. Before a batch
 * writes a source table, `lock` reads the rows of every key it touches
 * (locked, in one statement per table); after, `apply` takes each changed
 * row's old contribution away from its groups and windows and adds its new
 * one — a repeat changes nothing, a correction moves between groups, a
 * delete subtracts — in the same MySQL transaction as the rows and the
 * position. With a lateness, it also moves the partition's watermark and
 * marks the windows it makes final.
 */
export class AggregateViews {
  readonly tables: readonly MySqlAggregateTable[];
  private readonly sources: Source[];
  private readonly groupId: string;
  private readonly partitions: number;
  private definitionsChecked = false;

  constructor({ aggregates, modelTables, groupId, partitions }: AggregateViewsOptions) {
    this.groupId = groupId;
    this.partitions = partitions;
    this.tables = aggregates.map(
      (aggregate) =>
        new MySqlAggregateTable(
          aggregate,
          modelTables.find((table) => table.name === aggregate.from)!,
        ),
    );
    this.sources = modelTables.flatMap((table, t) => {
      const views = this.tables.filter((view) => view.aggregate.from === table.name);
      if (views.length === 0) return [];
      const read = views.flatMap(({ aggregate }) => [
        ...aggregate.groupBy,
        ...(aggregate.window === undefined ? [] : [aggregate.window.column]),
        ...aggregate.measures.flatMap((measure) => (measure.of === undefined ? [] : [measure.of])),
      ]);
      const positions = new Map(table.columns.map((column, i) => [column.name, i]));
      return [{ t, table, reader: new CanonicalRowReader(table, read), columnIndex: (column: string) => positions.get(column)!, aggregates: views }];
    });
  }

  get enabled(): boolean {
    return this.tables.length > 0;
  }

  /**
   * Refuses to run over aggregate tables made for another definition (or by
   * kelt's earlier rules, which counted records, not rows): their numbers
   * are not a view of this spec's model tables until a replay rebuilds them.
   */
  async checkDefinitions(pool: Pick<MySqlPool, 'query'>, pipelineName: string): Promise<void> {
    if (!this.enabled || this.definitionsChecked) return;
    let rows: unknown;
    try {
      [rows] = await pool.query(
        'SELECT TABLE_NAME AS name, TABLE_COMMENT AS comment FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)',
        [this.tables.map((view) => view.aggregate.name)],
      );
    } catch (error) {
      throw classifyMySqlError(error, "reading the aggregate tables' definitions");
    }
    const comments = new Map((rows as Array<{ name: string; comment: string }>).map((row) => [row.name, row.comment]));
    const problems = this.tables.flatMap(({ aggregate, signature }) =>
      !comments.has(aggregate.name)
        ? [`${aggregate.name} does not exist: run kelt migrate`]
        : comments.get(aggregate.name) !== signature
          ? [`${aggregate.name} was built for another definition (or by kelt's earlier rules, which counted records, not rows)`]
          : [],
    );
    if (problems.length > 0) {
      throw new ConfigError(
        `the aggregates are not views of this spec's model tables: rebuild them with kelt replay --pipeline <spec> --aggregates-only (${pipelineName})`,
        problems,
      );
    }
    this.definitionsChecked = true;
  }

  /** Before the batch writes: the rows of every key it touches in a source table, locked, and what the batch leaves of each. */
  async lock(connection: Queryable, operations: ReadonlyArray<readonly TableOperation[]>, rowsPerStatement: number): Promise<BatchRowChanges> {
    const changes: BatchRowChanges = [];
    for (const source of this.sources) {
      const after = new Map<string, { key: unknown[]; row: unknown[] | null }>();
      for (const operation of operations[source.t]!) {
        if ('row' in operation) {
          const row = source.reader.canonicalRow(operation.row);
          after.set(source.reader.keyOf(row), { key: source.table.keyOfRow(row), row });
        } else {
          const key = source.reader.canonicalKey(operation.key);
          after.set(valuesKey(key), { key, row: null });
        }
      }
      const before = await source.reader.locked(
        connection,
        [...after.values()].map(({ key }) => key),
        rowsPerStatement,
      );
      changes.push(new Map([...after].map(([key, { row }]) => [key, { before: before.get(key) ?? null, after: row }])));
    }
    return changes;
  }

  /** After the batch wrote its rows: every aggregate moved by the difference; returns the rows per aggregate that changed final windows. */
  async apply(connection: Queryable, changes: BatchRowChanges, partition: number, rowsPerStatement: number): Promise<Map<string, number>> {
    const late = new Map<string, number>();
    for (const [s, source] of this.sources.entries()) {
      for (const view of source.aggregates) {
        const { aggregate } = view;
        const contributions: Contribution[] = [];
        let highestMs: number | undefined;
        for (const { before, after } of changes[s]!.values()) {
          const taken = before === null ? [] : contributionsOf(aggregate, before, source.columnIndex, -1);
          const added = after === null ? [] : contributionsOf(aggregate, after, source.columnIndex, 1);
          if (aggregate.latenessMs !== undefined && after !== null) {
            const time = after[source.columnIndex(aggregate.window!.column)];
            if (time !== null && time !== undefined) highestMs = Math.max(highestMs ?? -Infinity, epochMillisFloor(String(time)));
          }
          if (sameContributions(taken, added)) continue;
          contributions.push(...taken, ...added);
        }
        const deltas = aggregateDeltas(aggregate, contributions, view.reading);
        if (aggregate.latenessMs === undefined) {
          await view.apply(connection, deltas, { rowsPerStatement, finalUpToMs: undefined });
          continue;
        }
        const scope: WatermarkScope = { groupId: this.groupId, table: aggregate.name, partitions: this.partitions };
        const finalUpToMs = view.finalUpTo(await pipelineWatermark(connection, scope));
        late.set(aggregate.name, await view.apply(connection, deltas, { rowsPerStatement, finalUpToMs }));
        if (highestMs === undefined) continue;
        await raiseWatermark(connection, scope, partition, highestMs);
        const upTo = view.finalUpTo(await pipelineWatermark(connection, scope));
        if (upTo !== undefined) await view.markFinal(connection, upTo);
      }
    }
    return late;
  }

  /**
   * Rebuilds every aggregate from its model table: dropped, created as the
   * spec defines it, then filled page by page in key order. The table's
   * comment names its definition only once it is whole, so a transform
   * refuses a rebuild that stopped half way. The transform must not run.
   */
  async rebuild(pool: MySqlPool, rowsPerStatement: number, say: (line: string) => void): Promise<void> {
    const connection = await pool.getConnection().catch((error: unknown) => {
      throw classifyMySqlError(error, 'connecting to MySQL');
    });
    try {
      for (const source of this.sources) await this.rebuildFrom(connection, source, rowsPerStatement, say);
    } catch (error) {
      await connection.rollback().catch((rollbackError: unknown) => {
        (error as Error & { rollbackError?: unknown }).rollbackError = rollbackError;
      });
      throw classifyMySqlError(error, 'rebuilding the aggregates');
    } finally {
      connection.release();
    }
  }

  private async rebuildFrom(connection: MySqlConnection, source: Source, rowsPerStatement: number, say: (line: string) => void): Promise<void> {
    for (const { table, members } of source.aggregates) {
      for (const name of [table.name, ...(members === undefined ? [] : [members.name])])
        await connection.query(`DROP TABLE IF EXISTS ${quoteId(name)}`);
      await connection.query(
        new MySqlTable(table.name, table.columns, table.primaryKey, { indexes: table.indexes, comment: 'kelt aggregate being rebuilt' }).createSql(),
      );
      if (members !== undefined) await connection.query(members.createSql());
    }
    let after: unknown[] | undefined;
    let rows = 0;
    for (;;) {
      const page = await source.reader.page(connection, after, rowsPerStatement * 5);
      if (page.length === 0) break;
      await connection.beginTransaction();
      for (const view of source.aggregates) {
        const contributions = page.flatMap((row) => contributionsOf(view.aggregate, row, source.columnIndex, 1));
        await view.apply(connection, aggregateDeltas(view.aggregate, contributions, view.reading), { rowsPerStatement, finalUpToMs: undefined });
      }
      await connection.commit();
      rows += page.length;
      after = source.table.keyOfRow(page.at(-1)!);
    }
    for (const view of source.aggregates) {
      if (view.aggregate.latenessMs !== undefined) {
        const upTo = view.finalUpTo(
          await pipelineWatermark(connection, { groupId: this.groupId, table: view.aggregate.name, partitions: this.partitions }),
        );
        if (upTo !== undefined) await view.markFinal(connection, upTo);
      }
      await connection.query(`ALTER TABLE ${quoteId(view.aggregate.name)} COMMENT = ?`, [view.signature]);
    }
    say(`rebuilt ${source.aggregates.map((view) => view.aggregate.name).join(', ')} from ${rows.toLocaleString('en')} rows of ${source.table.name}`);
  }
}
