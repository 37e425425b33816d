import { createHash } from 'node:crypto';
import type { Aggregate } from '../pipeline/aggregates.ts';
import { quoteId, type MySqlTable, type TableIndex } from './table.ts';

/** How many characters of a long text or bytes column an index keeps (the rest is checked on the row). */
const INDEX_PREFIX = 64;

/**
 * The indexes a source table needs for its aggregates' min and max: the
 * group's columns, the window's column, the measure's column, so that the
 * next extreme of a group is found by the index, not by a scan.
 */
export function extremeIndexes(aggregates: readonly Aggregate[], source: MySqlTable): TableIndex[] {
  const indexes = new Map<string, TableIndex>();
  for (const aggregate of aggregates.filter((candidate) => candidate.from === source.name)) {
    for (const measure of aggregate.measures.filter((candidate) => candidate.kind === 'min' || candidate.kind === 'max')) {
      const names = [...new Set([...aggregate.groupBy, ...(aggregate.window === undefined ? [] : [aggregate.window.column]), measure.of!])];
      const parts = names.map((name) => {
        const { sqlType } = source.columns.find((column) => column.name === name)!;
        const length = /^(VARCHAR|VARBINARY)\((\d+)\)/i.exec(sqlType);
        const long = /^(TEXT|LONGBLOB|BLOB)/i.test(sqlType) || (length !== null && Number(length[2]) > INDEX_PREFIX);
        return long ? `${quoteId(name)}(${INDEX_PREFIX})` : quoteId(name);
      });
      const name = `kelt_extreme_${createHash('sha256').update(parts.join()).digest('hex').slice(0, 16)}`;
      indexes.set(name, { name, parts });
    }
  }
  return [...indexes.values()];
}
