import { createHash } from 'node:crypto';
import {
  definitionOf,
  FINAL_COLUMN,
  LATE_ROWS_COLUMN,
  nonNullColumn,
  ROWS_COLUMN,
  type Aggregate,
  type GroupDelta,
  type MeasureDelta,
  type MeasureReading,
} from '../pipeline/aggregates.ts';
import { compareOf } from '../pipeline/canonical-values.ts';
import type { Column } from '../pipeline/sql-types.ts';
import { timestampText } from '../values/temporal.ts';
import { RowRejectionError } from './errors.ts';
import type { Queryable } from './queryable.ts';
import { applyMembers } from './aggregate-members.ts';
import { MySqlTable, quoteId } from './table.ts';

/** What the transform knows of a batch's groups when it applies them: which windows were final already. */
export interface ApplyContext {
  rowsPerStatement: number;
  /** Windows starting at or before this (ms) were final before the batch (undefined: none). */
  finalUpToMs: number | undefined;
}

/**
 * An aggregate's two MySQL tables, kept as a view of its source table. The
 * aggregate table is keyed by the window's start and `kelt_group` (a hash of
 * the group's values, so any column type can be grouped by, TEXT included)
 * and keeps, besides the measures, the group's rows (`kelt_rows`; a group
 * whose last row leaves is deleted) and each sum's non-NULL values. The
 * members table counts each count_distinct member's rows per group: a
 * member leaves when its last row does.
 *
 * A batch's deltas (batch-aggregation.ts: old rows taken away, new rows
 * added) are applied in the transform's MySQL transaction, next to the rows
 * and the partition's position, in a fixed number of statements per
 * aggregate whatever the groups: the members read (locked) and written, one
 * multi-row upsert of the groups, one update that asks the source table for
 * a min or max whose extreme was taken away (through the index migrate made
 * for it), one delete of emptied groups.
 */
export class MySqlAggregateTable {
  readonly aggregate: Aggregate;
  /** The aggregate table (its DDL; columns in the order `apply` writes them). */
  readonly table: MySqlTable;
  readonly members: MySqlTable | undefined;
  readonly reading: MeasureReading;
  /** The table comment that says which definition made its rows. */
  readonly signature: string;
  private readonly source: MySqlTable;
  private readonly upsertSql: string;

  constructor(aggregate: Aggregate, source: MySqlTable) {
    this.aggregate = aggregate;
    this.source = source;
    const sourceColumn = (name: string): Column => source.columns.find((column) => column.name === name)!;
    const plain = (name: string, sqlType: string, nullable: boolean): Column => ({ name, field: name, sqlType, nullable, toSql: (value) => value });
    const windowColumns = aggregate.window === undefined ? [] : [plain(aggregate.window.as, 'DATETIME(3)', false)];
    const groupColumns = aggregate.groupBy.map((name) => ({ ...sourceColumn(name), name, field: name, nullable: true }));
    const measureColumns = aggregate.measures.map((measure): Column => {
      switch (measure.kind) {
        case 'count':
        case 'count_distinct':
          return plain(measure.name, 'BIGINT', false);
        case 'sum':
          return plain(measure.name, sourceColumn(measure.of!).sqlType === 'DOUBLE' ? 'DOUBLE' : 'DECIMAL(65,0)', true);
        case 'min':
        case 'max':
          return { ...sourceColumn(measure.of!), name: measure.name, field: measure.name, nullable: true };
      }
    });
    const sums = aggregate.measures.flatMap((measure, m) => (measure.kind === 'sum' ? [m] : []));
    const bookkeeping = [
      plain(ROWS_COLUMN, 'BIGINT', false),
      ...sums.map((m) => plain(nonNullColumn(m), 'BIGINT', false)),
      ...(aggregate.latenessMs === undefined ? [] : [plain(FINAL_COLUMN, 'BOOLEAN', false), plain(LATE_ROWS_COLUMN, 'BIGINT', false)]),
    ];
    this.reading = {
      exactSums: aggregate.measures.map((measure) => measure.kind === 'sum' && sourceColumn(measure.of!).sqlType !== 'DOUBLE'),
      compares: aggregate.measures.map((measure) =>
        measure.kind === 'min' || measure.kind === 'max' ? compareOf(sourceColumn(measure.of!).sqlType) : undefined,
      ),
    };
    const key = [...windowColumns.map((column) => column.name), 'kelt_group'];
    this.signature = `kelt aggregate ${createHash('sha256').update(definitionOf(aggregate)).digest('hex').slice(0, 16)}`;
    this.table = new MySqlTable(
      aggregate.name,
      [...windowColumns, ...groupColumns, plain('kelt_group', 'BINARY(16)', false), ...measureColumns, ...bookkeeping],
      key,
      {
        comment: this.signature,
        // The windows not final yet, found without a scan by the batch that marks them.
        indexes: aggregate.latenessMs === undefined ? [] : [{ name: 'kelt_open', parts: [quoteId(FINAL_COLUMN), quoteId(aggregate.window!.as)] }],
      },
    );
    const distinct = aggregate.measures.some((measure) => measure.kind === 'count_distinct');
    this.members = distinct
      ? new MySqlTable(
          aggregate.membersTable,
          [
            ...windowColumns,
            plain('kelt_group', 'BINARY(16)', false),
            plain('measure', 'VARCHAR(64)', false),
            plain('member', 'BINARY(16)', false),
            plain(ROWS_COLUMN, 'BIGINT', false),
          ],
          [...key, 'measure', 'member'],
        )
      : undefined;
    this.upsertSql = this.upsertStatement(sums);
  }

  private upsertStatement(sums: readonly number[]): string {
    const c = quoteId;
    const v = (name: string) => `VALUES(${c(name)})`;
    // Each sum's NULL-ness reads its count of non-NULL values before that count's own assignment, which follows.
    const updates = this.aggregate.measures.map(({ name, kind }, m) => {
      switch (kind) {
        case 'count':
        case 'count_distinct':
          return `${c(name)} = ${c(name)} + ${v(name)}`;
        case 'sum': {
          const n = nonNullColumn(m);
          return `${c(name)} = IF(${c(n)} + ${v(n)} = 0, NULL, COALESCE(${c(name)}, 0) + COALESCE(${v(name)}, 0))`;
        }
        case 'min':
        case 'max':
          return `${c(name)} = CASE WHEN ${v(name)} IS NULL THEN ${c(name)} WHEN ${c(name)} IS NULL THEN ${v(name)} ELSE ${kind === 'min' ? 'LEAST' : 'GREATEST'}(${c(name)}, ${v(name)}) END`;
      }
    });
    updates.push(`${c(ROWS_COLUMN)} = ${c(ROWS_COLUMN)} + ${v(ROWS_COLUMN)}`);
    for (const m of sums) updates.push(`${c(nonNullColumn(m))} = ${c(nonNullColumn(m))} + ${v(nonNullColumn(m))}`);
    if (this.aggregate.latenessMs !== undefined) updates.push(`${c(LATE_ROWS_COLUMN)} = ${c(LATE_ROWS_COLUMN)} + ${v(LATE_ROWS_COLUMN)}`);
    const columns = this.table.columns.map((column) => c(column.name));
    return `INSERT INTO ${c(this.aggregate.name)} (${columns.join(', ')}) VALUES ? ON DUPLICATE KEY UPDATE ${updates.join(', ')}`;
  }

  /** Applies one batch's deltas (in key order, as aggregateDeltas sorts them); returns the rows that changed windows already final. */
  async apply(connection: Queryable, deltas: readonly GroupDelta[], context: ApplyContext): Promise<number> {
    if (deltas.length === 0) return 0;
    const distinct = await applyMembers(
      connection,
      { aggregate: this.aggregate, members: this.members, source: this.source },
      deltas,
      context.rowsPerStatement,
    );
    let late = 0;
    const rows = deltas.map((delta, d) => {
      const isLate = context.finalUpToMs !== undefined && delta.windowStartMs! <= context.finalUpToMs;
      if (isLate) late += delta.changes;
      return this.rowOf(delta, distinct[d]!, isLate ? delta.changes : 0);
    });
    for (let start = 0; start < rows.length; start += context.rowsPerStatement) {
      await connection.query(this.upsertSql, [rows.slice(start, start + context.rowsPerStatement)]);
    }
    await this.recomputeExtremes(connection, deltas, context.rowsPerStatement);
    const emptied = deltas.filter((delta) => delta.rows < 0).map((delta) => this.keyOf(delta));
    for (let start = 0; start < emptied.length; start += context.rowsPerStatement) {
      await connection.query(`DELETE FROM ${quoteId(this.aggregate.name)} WHERE (${this.keyColumns()}) IN (?) AND ${quoteId(ROWS_COLUMN)} = 0`, [
        emptied.slice(start, start + context.rowsPerStatement),
      ]);
    }
    return late;
  }

  /** Marks final every window that starts at or before `upToMs` and is not final yet. */
  async markFinal(connection: Queryable, upToMs: number): Promise<void> {
    await connection.query(
      `UPDATE ${quoteId(this.aggregate.name)} SET ${quoteId(FINAL_COLUMN)} = 1 WHERE ${quoteId(FINAL_COLUMN)} = 0 AND ${quoteId(this.aggregate.window!.as)} <= ?`,
      [timestampText(upToMs, 'millis')],
    );
  }

  /** The start of the last window that a watermark at `watermarkMs` makes final (its end plus the lateness passed). */
  finalUpTo(watermarkMs: number | undefined): number | undefined {
    const { window, latenessMs } = this.aggregate;
    return watermarkMs === undefined || latenessMs === undefined ? undefined : watermarkMs - window!.sizeMs - latenessMs;
  }

  private keyColumns(): string {
    return [...(this.aggregate.window === undefined ? [] : [this.aggregate.window.as]), 'kelt_group'].map(quoteId).join(', ');
  }

  private keyOf(delta: GroupDelta): unknown[] {
    return [...(delta.windowStart === undefined ? [] : [delta.windowStart]), delta.groupHash];
  }

  private rowOf(delta: GroupDelta, distinct: readonly number[], late: number): unknown[] {
    const measures = delta.measures.map((measure, m) => this.parameterOf(measure, delta.rows, distinct[m] ?? 0, m));
    const sums = delta.measures.flatMap((measure) => (measure.kind === 'sum' ? [measure.nonNull] : []));
    const finality = this.aggregate.latenessMs === undefined ? [] : [0, late];
    return [...this.keyOf(delta).slice(0, -1), ...delta.groupValues, delta.groupHash, ...measures, delta.rows, ...sums, ...finality];
  }

  private parameterOf(measure: MeasureDelta, rows: number, distinct: number, m: number): unknown {
    switch (measure.kind) {
      case 'count':
        return rows;
      case 'count_distinct':
        return distinct;
      case 'sum': {
        const { sum, nonNull } = measure;
        if (typeof sum === 'number' && !Number.isFinite(sum)) {
          // Finite values that add up past DOUBLE's range: the rows that made it are refused.
          throw new RowRejectionError(
            `${this.aggregate.name}.${this.aggregate.measures[m]!.name}: the sum of one group's values is ${sum}, past the range of a DOUBLE`,
          );
        }
        if (nonNull === 0 && (sum === 0 || sum === 0n)) return null;
        return typeof sum === 'bigint' ? sum.toString() : sum;
      }
      case 'min':
      case 'max':
        return measure.added;
    }
  }

  /**
   * Where a batch took away a min or max that may have been the group's
   * extreme (the stored one is not beyond it), the group's remaining rows
   * in the source table say what it is now: one update per measure, through
   * the index migrate made for it (sourceIndexes).
   */
  private async recomputeExtremes(connection: Queryable, deltas: readonly GroupDelta[], rowsPerStatement: number): Promise<void> {
    const c = quoteId;
    const { window, groupBy } = this.aggregate;
    const stringTypes = /^(VARCHAR|TEXT|CHAR)/i;
    const sameGroup = groupBy.map((name) => {
      const type = this.source.columns.find((column) => column.name === name)!.sqlType;
      // utf8mb4_bin pads: 'a' = 'a ' in SQL, but they are two groups here, as two values.
      return stringTypes.test(type)
        ? `s.${c(name)} <=> a.${c(name)} AND LENGTH(s.${c(name)}) <=> LENGTH(a.${c(name)})`
        : `s.${c(name)} <=> a.${c(name)}`;
    });
    if (window !== undefined) {
      sameGroup.push(
        `s.${c(window.column)} >= a.${c(window.as)}`,
        `s.${c(window.column)} < a.${c(window.as)} + INTERVAL ${window.sizeMs * 1000} MICROSECOND`,
      );
    }
    for (const [m, measure] of this.aggregate.measures.entries()) {
      if (measure.kind !== 'min' && measure.kind !== 'max') continue;
      const retracted = deltas.flatMap((delta) => {
        const change = delta.measures[m] as Extract<MeasureDelta, { kind: 'min' | 'max' }>;
        return change.retracted === null ? [] : [[...this.keyOf(delta), change.retracted]];
      });
      const keyTest = [
        ...(window === undefined ? [] : [`a.${c(window.as)} = ?`]),
        'a.kelt_group = ?',
        `a.${c(measure.name)} ${measure.kind === 'min' ? '>=' : '<='} ?`,
      ].join(' AND ');
      const extreme = `(SELECT ${measure.kind.toUpperCase()}(s.${c(measure.of!)}) FROM ${c(this.source.name)} s WHERE ${sameGroup.length === 0 ? 'TRUE' : sameGroup.join(' AND ')})`;
      for (let start = 0; start < retracted.length; start += rowsPerStatement) {
        const part = retracted.slice(start, start + rowsPerStatement);
        await connection.query(
          `UPDATE ${c(this.aggregate.name)} a SET a.${c(measure.name)} = ${extreme} WHERE ${part.map(() => `(${keyTest})`).join(' OR ')}`,
          part.flat(),
        );
      }
    }
  }
}
