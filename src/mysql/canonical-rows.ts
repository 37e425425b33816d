import { canonicalOf, isBinary, valuesKey, type Canonical } from '../pipeline/canonical-values.ts';
import type { Queryable } from './queryable.ts';
import { quoteId, type MySqlTable } from './table.ts';

/** mysql2's view of a column in `typeCast`: the raw text of its value, or its bytes. */
interface CastField {
  name: string;
  string(): string | null;
  buffer(): Buffer | null;
}

/**
 * A table's rows read back as canonical values (canonical-values.ts), the
 * form the transform's own rows are compared in: MySQL's text of each value
 * taken as it is (no Date, no double of a DECIMAL), bytes as bytes. Inside
 * a batch's transaction the rows it touches are read for an update (locked,
 * in primary key order, so that members lock rows in one order); a rebuild
 * reads a whole table page by page.
 */
export class CanonicalRowReader {
  private readonly table: MySqlTable;
  private readonly selectSql: string;
  private readonly columnsSql: string;
  private readonly keySql: string;
  private readonly keyIndexes: number[];
  /** Per selected column: its position in the table's columns and its canonical form. */
  private readonly selected: Array<{ index: number; canonical: Canonical }>;
  private readonly binary: ReadonlySet<string>;

  /** `columns`: the columns to read (the primary key's always are). */
  constructor(table: MySqlTable, columns: Iterable<string>) {
    this.table = table;
    const names = new Set([...table.primaryKey, ...columns]);
    const read = table.columns.filter((column) => names.has(column.name));
    this.selected = read.map((column) => ({ index: table.columns.indexOf(column), canonical: canonicalOf(column.sqlType) }));
    this.binary = new Set(read.filter((column) => isBinary(column.sqlType)).map((column) => column.name));
    this.keyIndexes = table.primaryKey.map((name) => read.findIndex((column) => column.name === name));
    const key = table.primaryKey.map(quoteId).join(', ');
    this.keySql = key;
    this.columnsSql = read.map((column) => quoteId(column.name)).join(', ');
    this.selectSql = `SELECT ${this.columnsSql} FROM ${quoteId(table.name)} WHERE (${key}) IN (?) ORDER BY ${key} FOR UPDATE`;
  }

  /** The canonical form of a row of parameters (column-values.ts), in the table's column order. */
  canonicalRow(row: readonly unknown[]): unknown[] {
    const canonical: unknown[] = new Array(row.length);
    for (const { index, canonical: form } of this.selected) canonical[index] = form(row[index]);
    return canonical;
  }

  /** The canonical form of a primary key's parameters (a delete's key). */
  canonicalKey(key: readonly unknown[]): unknown[] {
    return this.keyIndexes.map((selected, k) => this.selected[selected]!.canonical(key[k]));
  }

  /** The primary key's text of a canonical row (what `read` keys its answer by). */
  keyOf(row: readonly unknown[]): string {
    return valuesKey(this.table.primaryKey.map((_, k) => row[this.selected[this.keyIndexes[k]!]!.index]));
  }

  /** The rows with these primary keys (canonical key values), locked; key text → canonical row in the table's column order. */
  async locked(connection: Queryable, keys: readonly unknown[][], rowsPerStatement: number): Promise<Map<string, unknown[]>> {
    const found = new Map<string, unknown[]>();
    for (let start = 0; start < keys.length; start += rowsPerStatement) {
      for (const row of await this.rows(connection, this.selectSql, [keys.slice(start, start + rowsPerStatement)])) found.set(this.keyOf(row), row);
    }
    return found;
  }

  /** The next `limit` rows in primary key order after the row whose canonical key is `after` (from the first without one). */
  async page(connection: Queryable, after: readonly unknown[] | undefined, limit: number): Promise<unknown[][]> {
    const from = after === undefined ? '' : ` WHERE (${this.keySql}) > (?)`;
    return this.rows(
      connection,
      `SELECT ${this.columnsSql} FROM ${quoteId(this.table.name)}${from} ORDER BY ${this.keySql} LIMIT ${limit}`,
      after === undefined ? [] : [after],
    );
  }

  private async rows(connection: Queryable, sql: string, values: unknown[]): Promise<unknown[][]> {
    const typeCast = (field: CastField) => (this.binary.has(field.name) ? field.buffer() : field.string());
    const [rows] = await connection.query({ sql, values, rowsAsArray: true, typeCast: typeCast as never });
    return (rows as unknown[][]).map((values) => {
      const row: unknown[] = new Array(this.table.columns.length);
      this.selected.forEach(({ index, canonical }, i) => (row[index] = canonical(values[i])));
      return row;
    });
  }
}
