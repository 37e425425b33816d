import type { Queryable } from './queryable.ts';
import { PermanentError } from '../errors.ts';
import type { Column } from '../pipeline/sql-types.ts';
import type { MySqlPool } from './pool.ts';

/** Quotes a SQL identifier (names come from validated specs, quoting is belt and braces). */
export function quoteId(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** A secondary index: its name and its key parts as SQL (`\`url_path\`(64)` for a prefix). */
export interface TableIndex {
  name: string;
  parts: string[];
}

/** What a table has besides its columns and primary key. */
export interface TableOptions {
  indexes?: readonly TableIndex[];
  /** The table's comment: kelt's note of what defines its rows (aggregates). */
  comment?: string;
}

/**
 * A MySQL table kelt writes: its DDL and its batched upsert. Upserts by
 * primary key keep a replay harmless; within one statement a later row for
 * the same key wins, so rows are written in partition order.
 */
export class MySqlTable {
  readonly name: string;
  readonly columns: readonly Column[];
  readonly primaryKey: readonly string[];
  readonly indexes: readonly TableIndex[];
  readonly comment: string | undefined;
  private readonly insertPrefix: string;
  private readonly keyIndexes: number[];
  private readonly upsertSuffix: string;

  constructor(name: string, columns: readonly Column[], primaryKey: readonly string[], options: TableOptions = {}) {
    this.name = name;
    this.columns = columns;
    this.primaryKey = primaryKey;
    this.indexes = options.indexes ?? [];
    this.comment = options.comment;
    this.keyIndexes = primaryKey.map((name) => columns.findIndex((column) => column.name === name));
    const names = columns.map((column) => quoteId(column.name));
    this.insertPrefix = `INSERT INTO ${quoteId(name)} (${names.join(', ')}) VALUES ?`;
    const updates = columns
      .filter((column) => !primaryKey.includes(column.name))
      .map((column) => `${quoteId(column.name)} = VALUES(${quoteId(column.name)})`);
    // VALUES() in ON DUPLICATE KEY UPDATE is the spelling both MySQL 8 and MariaDB accept.
    this.upsertSuffix =
      updates.length > 0
        ? ` ON DUPLICATE KEY UPDATE ${updates.join(', ')}`
        : ` ON DUPLICATE KEY UPDATE ${quoteId(primaryKey[0]!)} = ${quoteId(primaryKey[0]!)}`;
  }

  createSql(): string {
    const definitions = this.columns.map((column) => `  ${quoteId(column.name)} ${column.sqlType} ${column.nullable ? 'NULL' : 'NOT NULL'}`);
    definitions.push(`  PRIMARY KEY (${this.primaryKey.map(quoteId).join(', ')})`);
    for (const index of this.indexes) definitions.push(`  KEY ${quoteId(index.name)} (${index.parts.join(', ')})`);
    const comment = this.comment === undefined ? '' : ` COMMENT='${this.comment.replace(/'/g, "''")}'`;
    return `CREATE TABLE IF NOT EXISTS ${quoteId(this.name)} (\n${definitions.join(',\n')}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin${comment}`;
  }

  async create(pool: MySqlPool): Promise<void> {
    await pool.query(this.createSql());
  }

  /**
   * One record as the row of parameters for this table's columns; a value
   * no column of its type can hold fails with a PermanentError naming the column.
   */
  rowOf(record: Record<string, unknown>): unknown[] {
    return this.columns.map((column) => {
      try {
        return column.toSql(record[column.field]);
      } catch (error) {
        if (!(error instanceof PermanentError)) throw error;
        throw new PermanentError(`${this.name}.${column.name}: ${error.message}`, {
          cause: error,
          ...(error.reason === undefined ? {} : { reason: error.reason }),
        });
      }
    });
  }

  /** The primary key's values of a record, as parameters (a delete's key). */
  keyOf(record: Record<string, unknown>): unknown[] {
    return this.primaryKey.map((name) => {
      const column = this.columns.find((candidate) => candidate.name === name)!;
      return column.toSql(record[column.field]);
    });
  }

  /** The primary key's values within a row already in column order. */
  keyOfRow(row: readonly unknown[]): unknown[] {
    return this.keyIndexes.map((index) => row[index]);
  }

  /** Deletes the rows with these primary keys, in statements of at most `rowsPerStatement` keys. */
  async delete(connection: Queryable, keys: readonly unknown[][], rowsPerStatement: number): Promise<void> {
    const columns = `(${this.primaryKey.map(quoteId).join(', ')})`;
    for (let start = 0; start < keys.length; start += rowsPerStatement) {
      await connection.query(`DELETE FROM ${quoteId(this.name)} WHERE ${columns} IN (?)`, [keys.slice(start, start + rowsPerStatement)]);
    }
  }

  /** Upserts rows (already in column order) in statements of at most `rowsPerStatement`. */
  async upsert(connection: Queryable, rows: readonly unknown[][], rowsPerStatement: number): Promise<void> {
    for (let start = 0; start < rows.length; start += rowsPerStatement) {
      const slice = rows.slice(start, start + rowsPerStatement);
      await connection.query(this.insertPrefix + this.upsertSuffix, [slice]);
    }
  }
}
