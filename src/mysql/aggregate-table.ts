import type { Aggregate, GroupIncrement } from '../pipeline/aggregates.ts';
import type { Column } from '../pipeline/sql-types.ts';
import { RowRejectionError } from './errors.ts';
import type { Queryable } from './queryable.ts';
import { MySqlTable, quoteId } from './table.ts';

/**
 * An aggregate's two MySQL tables and its increments. The aggregate table
 * is keyed by the window's start and `kelt_group` (a hash of the group's
 * values, so any column type can be grouped by, TEXT included); the members
 * table keeps each count_distinct measure's members (hashed), so that a
 * member counts once however many batches, members or replays see it.
 *
 * Increments are one multi-row upsert per batch (`count = count + new`,
 * sums added, min/max kept), applied in the transform's MySQL transaction
 * next to the partition's position: applied once, whatever crashes.
 */
export class MySqlAggregateTable {
  readonly aggregate: Aggregate;
  /** The aggregate table (its DDL; columns in the order `increment` writes them). */
  readonly table: MySqlTable;
  readonly members: MySqlTable | undefined;
  /** Which measures sum integers exactly (int and long columns). */
  readonly exactSums: boolean[];
  private readonly upsertSql: string;

  constructor(aggregate: Aggregate, source: MySqlTable) {
    this.aggregate = aggregate;
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
    this.exactSums = aggregate.measures.map((measure) => measure.kind === 'sum' && sourceColumn(measure.of!).sqlType !== 'DOUBLE');
    const key = [...windowColumns.map((column) => column.name), 'kelt_group'];
    this.table = new MySqlTable(
      aggregate.name,
      [...windowColumns, ...groupColumns, plain('kelt_group', 'BINARY(16)', false), ...measureColumns],
      key,
    );
    const distinct = aggregate.measures.some((measure) => measure.kind === 'count_distinct');
    this.members = distinct
      ? new MySqlTable(
          aggregate.membersTable,
          [...windowColumns, plain('kelt_group', 'BINARY(16)', false), plain('measure', 'VARCHAR(64)', false), plain('member', 'BINARY(16)', false)],
          [...key, 'measure', 'member'],
        )
      : undefined;
    const updates = aggregate.measures.map(({ name, kind }) => {
      const [c, v] = [quoteId(name), `VALUES(${quoteId(name)})`];
      switch (kind) {
        case 'count':
        case 'count_distinct':
          return `${c} = ${c} + ${v}`;
        case 'sum':
          return `${c} = CASE WHEN ${v} IS NULL THEN ${c} WHEN ${c} IS NULL THEN ${v} ELSE ${c} + ${v} END`;
        case 'min':
        case 'max':
          return `${c} = CASE WHEN ${v} IS NULL THEN ${c} WHEN ${c} IS NULL THEN ${v} ELSE ${kind === 'min' ? 'LEAST' : 'GREATEST'}(${c}, ${v}) END`;
      }
    });
    const columns = this.table.columns.map((column) => quoteId(column.name));
    this.upsertSql = `INSERT INTO ${quoteId(aggregate.name)} (${columns.join(', ')}) VALUES ? ON DUPLICATE KEY UPDATE ${updates.join(', ')}`;
  }

  /**
   * Applies one batch's increments (in key order, as aggregateBatch sorts
   * them): count_distinct members first, each group's new members counted by
   * the rows INSERT IGNORE actually inserted, then every group's row in one
   * upsert per `rowsPerStatement`.
   */
  async increment(connection: Queryable, groups: readonly GroupIncrement[], rowsPerStatement: number): Promise<void> {
    const rows: unknown[][] = [];
    for (const group of groups) {
      const measures: unknown[] = [];
      for (const [m, measure] of this.aggregate.measures.entries()) {
        const members = group.members.get(m);
        if (measure.kind !== 'count_distinct') measures.push(sqlOf(group.measures[m], this.aggregate.name, measure.name));
        else measures.push(members === undefined ? 0 : await this.insertMembers(connection, group, measure.name, members, rowsPerStatement));
      }
      rows.push([...(group.windowStart === undefined ? [] : [group.windowStart]), ...group.groupValues, group.groupHash, ...measures]);
    }
    for (let start = 0; start < rows.length; start += rowsPerStatement) {
      await connection.query(this.upsertSql, [rows.slice(start, start + rowsPerStatement)]);
    }
  }

  /** Inserts a group's members of one measure; returns how many were new. */
  private async insertMembers(
    connection: Queryable,
    group: GroupIncrement,
    measure: string,
    members: readonly Buffer[],
    rowsPerStatement: number,
  ): Promise<number> {
    let inserted = 0;
    const prefix = group.windowStart === undefined ? [] : [group.windowStart];
    for (let start = 0; start < members.length; start += rowsPerStatement) {
      const rows = members.slice(start, start + rowsPerStatement).map((member) => [...prefix, group.groupHash, measure, member]);
      const [result] = await connection.query(`INSERT IGNORE INTO ${quoteId(this.members!.name)} VALUES ?`, [rows]);
      inserted += (result as { affectedRows: number }).affectedRows;
    }
    return inserted;
  }
}

/**
 * A measure's increment as a parameter: bigint sums as their digits
 * (DECIMAL(65,0) reads them exactly). A double sum past DOUBLE's range
 * (finite values that add up to Infinity) refuses the rows that made it.
 */
function sqlOf(value: unknown, table: string, measure: string): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new RowRejectionError(`${table}.${measure}: the sum of one group's values is ${value}, past the range of a DOUBLE`);
  }
  return value;
}
