import { ConfigError } from '../errors.ts';
import type { MySqlPool } from './pool.ts';
import { quoteId, type MySqlTable } from './table.ts';

/**
 * `kelt migrate` on a table that exists: add-only, like the JDBC sinks'
 * auto.evolve. Columns the spec adds are added (NULL-able: the rows already
 * there have no value); a column whose type the spec widens is widened; a
 * column the spec no longer has stays, NULL-able. Nothing is dropped,
 * narrowed or changed in kind: such a spec is refused, naming the column,
 * before anything is altered. Indexes the table is declared with and lacks
 * are added.
 */
export async function evolveTable(pool: MySqlPool, table: MySqlTable): Promise<string[]> {
  const [rows] = await pool.query(
    `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [table.name],
  );
  const existing = new Map((rows as Array<{ name: string; type: string; nullable: string }>).map((row) => [row.name, row]));
  if (existing.size === 0) {
    await table.create(pool);
    return [`created ${table.name}`];
  }
  const alterations: Array<{ sql: string; change: string }> = [];
  const refusals: string[] = [];
  for (const column of table.columns) {
    const found = existing.get(column.name);
    if (found === undefined) {
      alterations.push({ sql: `ADD COLUMN ${quoteId(column.name)} ${column.sqlType} NULL`, change: `added ${column.name} ${column.sqlType}` });
      continue;
    }
    const change = columnChange(found.type, column.sqlType);
    if (change === 'widen') {
      const nullability = found.nullable === 'YES' ? 'NULL' : 'NOT NULL';
      alterations.push({
        sql: `MODIFY COLUMN ${quoteId(column.name)} ${column.sqlType} ${nullability}`,
        change: `widened ${column.name} from ${found.type} to ${column.sqlType}`,
      });
    } else if (change === 'refuse') {
      refusals.push(
        `${table.name}.${column.name} is ${found.type}; the spec now makes it ${column.sqlType}, which is not a widening (kelt migrate only adds columns and widens types: int to bigint, float to double, a longer varchar, a larger decimal, finer datetime or time)`,
      );
    }
  }
  const [indexRows] = await pool.query(
    'SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
    [table.name],
  );
  const indexes = new Set((indexRows as Array<{ name: string }>).map((row) => row.name));
  for (const index of table.indexes.filter(({ name }) => !indexes.has(name))) {
    alterations.push({
      sql: `ADD INDEX ${quoteId(index.name)} (${index.parts.join(', ')})`,
      change: `added index ${index.name} (${index.parts.join(', ')})`,
    });
  }
  const wanted = new Set(table.columns.map((column) => column.name));
  for (const found of existing.values()) {
    if (!wanted.has(found.name) && found.nullable !== 'YES' && !table.primaryKey.includes(found.name)) {
      alterations.push({
        sql: `MODIFY COLUMN ${quoteId(found.name)} ${found.type} NULL`,
        change: `${found.name} is no longer in the spec: kept, now NULL-able`,
      });
    }
  }
  if (refusals.length > 0) throw new ConfigError(`the spec changes ${table.name} in a way kelt migrate does not`, refusals);
  if (alterations.length > 0) {
    await pool.query(`ALTER TABLE ${quoteId(table.name)} ${alterations.map((alteration) => alteration.sql).join(', ')}`);
  }
  return alterations.map((alteration) => `${table.name}: ${alteration.change}`);
}

/** How an existing column's type (as information_schema prints it) relates to the one the spec wants. */
export function columnChange(existingType: string, wantedType: string): 'same' | 'keep' | 'widen' | 'refuse' {
  const have = parse(existingType);
  const want = parse(wantedType);
  if (have.base === want.base && have.args.join() === want.args.join()) return 'same';
  const order = widthOrder(have, want);
  if (order === undefined) return 'refuse';
  if (order === 0) return 'same';
  return order < 0 ? 'widen' : 'keep';
}

interface ParsedType {
  base: string;
  args: number[];
}

function parse(type: string): ParsedType {
  const lower = type.toLowerCase().trim();
  if (lower === 'boolean' || lower === 'bool') return { base: 'tinyint', args: [1] };
  // MariaDB stores JSON as LONGTEXT with a check.
  if (lower === 'json' || lower === 'longtext') return { base: 'json', args: [] };
  const match = /^([a-z]+)(?:\(([\d, ]+)\))?/.exec(lower)!;
  const base = match[1]!;
  const args = match[2] === undefined ? [] : match[2].split(',').map((arg) => Number(arg.trim()));
  // Display widths of integers (MariaDB's int(11)) say nothing of the range; tinyint(1) is BOOLEAN.
  if (['smallint', 'mediumint', 'int', 'bigint'].includes(base)) return { base, args: [] };
  if (base === 'datetime' || base === 'time') return { base, args: [args[0] ?? 0] };
  return { base, args };
}

/** Negative when `have` is narrower than `want`, positive when wider, 0 when equal, undefined when they differ in kind. */
function widthOrder(have: ParsedType, want: ParsedType): number | undefined {
  const integers = ['smallint', 'mediumint', 'int', 'bigint'];
  if (integers.includes(have.base) && integers.includes(want.base)) return integers.indexOf(have.base) - integers.indexOf(want.base);
  const floats = ['float', 'double'];
  if (floats.includes(have.base) && floats.includes(want.base)) return floats.indexOf(have.base) - floats.indexOf(want.base);
  const strings = (type: ParsedType) =>
    type.base === 'varchar' ? type.args[0]! : type.base === 'text' ? 65_535 : type.base === 'mediumtext' ? 16_777_215 : undefined;
  const [haveLength, wantLength] = [strings(have), strings(want)];
  if (haveLength !== undefined && wantLength !== undefined) return haveLength - wantLength;
  if ((have.base === 'datetime' || have.base === 'time') && have.base === want.base) return have.args[0]! - want.args[0]!;
  if (have.base === 'decimal' && want.base === 'decimal') {
    const [hp = 10, hs = 0] = have.args;
    const [wp = 10, ws = 0] = want.args;
    if (hs >= ws && hp - hs >= wp - ws) return hp === wp && hs === ws ? 0 : 1;
    if (ws >= hs && wp - ws >= hp - hs) return -1;
    return undefined;
  }
  return undefined;
}
