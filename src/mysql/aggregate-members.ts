import { ROWS_COLUMN, type Aggregate, type GroupDelta } from '../pipeline/aggregates.ts';
import type { Queryable } from './queryable.ts';
import { quoteId, type MySqlTable } from './table.ts';

/**
 * Moves the count_distinct members' rows: reads the batch's members
 * (locked, in key order), writes their new counts, deletes those at none.
 * Returns, per delta and measure, the change in distinct members.
 */
export async function applyMembers(
  connection: Queryable,
  { aggregate, members, source }: { aggregate: Aggregate; members: MySqlTable | undefined; source: MySqlTable },
  deltas: readonly GroupDelta[],
  rowsPerStatement: number,
): Promise<number[][]> {
  const distinct = deltas.map(() => [] as number[]);
  if (members === undefined) return distinct;
  const changes: Array<{ key: unknown[]; text: string; rows: number; delta: number; m: number }> = [];
  for (const [d, delta] of deltas.entries()) {
    for (const [m, measure] of delta.measures.entries()) {
      if (measure.kind !== 'count_distinct') continue;
      distinct[d]![m] = 0;
      const name = aggregate.measures[m]!.name;
      for (const { hash, rows } of measure.members) {
        const key = delta.windowStart === undefined ? [delta.groupHash, name, hash] : [delta.windowStart, delta.groupHash, name, hash];
        changes.push({ key, text: memberText(delta.windowStart, delta.groupHash, name, hash), rows, delta: d, m });
      }
    }
  }
  if (changes.length === 0) return distinct;
  // The text orders as the primary key does: members are locked in one order by every transform member.
  changes.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  const table = quoteId(members.name);
  const keyColumns = members.primaryKey.map(quoteId).join(', ');
  const before = new Map<string, number>();
  const typeCast = (field: { name: string; string(): string | null; buffer(): Buffer | null }) =>
    field.name === 'kelt_group' || field.name === 'member' ? field.buffer() : field.string();
  const windowed = aggregate.window !== undefined;
  for (let start = 0; start < changes.length; start += rowsPerStatement) {
    const [rows] = await connection.query({
      sql: `SELECT ${keyColumns}, ${quoteId(ROWS_COLUMN)} FROM ${table} WHERE (${keyColumns}) IN (?) ORDER BY ${keyColumns} FOR UPDATE`,
      values: [changes.slice(start, start + rowsPerStatement).map((change) => change.key)],
      rowsAsArray: true,
      typeCast: typeCast as never,
    });
    for (const row of rows as unknown[][]) {
      const [ws, group, measure, member, count] = windowed ? row : [undefined, ...row];
      before.set(memberText(ws as string | undefined, group as Buffer, measure as string, member as Buffer), Number(count));
    }
  }
  const kept: unknown[][] = [];
  const gone: unknown[][] = [];
  for (const change of changes) {
    const was = before.get(change.text) ?? 0;
    const now = was + change.rows;
    if (now < 0)
      throw new Error(
        `${members.name}: a member's rows would fall below none; the aggregate is not a view of ${source.name} (rebuild it with kelt replay --aggregates-only)`,
      );
    if (now > 0) kept.push([...change.key, now]);
    else gone.push(change.key);
    if (was === 0 && now > 0) distinct[change.delta]![change.m]! += 1;
    if (was > 0 && now === 0) distinct[change.delta]![change.m]! -= 1;
  }
  for (let start = 0; start < kept.length; start += rowsPerStatement) {
    await connection.query(`INSERT INTO ${table} VALUES ? ON DUPLICATE KEY UPDATE ${quoteId(ROWS_COLUMN)} = VALUES(${quoteId(ROWS_COLUMN)})`, [
      kept.slice(start, start + rowsPerStatement),
    ]);
  }
  for (let start = 0; start < gone.length; start += rowsPerStatement) {
    await connection.query(`DELETE FROM ${table} WHERE (${keyColumns}) IN (?)`, [gone.slice(start, start + rowsPerStatement)]);
  }
  return distinct;
}

/**
 * A member row's key as one string that orders as its primary key does:
 * the window's DATETIME text (fixed width), then the bytes as latin1
 * characters (one code unit each, in byte order), NUL between the parts.
 */
function memberText(windowStart: string | undefined, group: Buffer, measure: string, member: Buffer): string {
  return `${windowStart ?? ''}\0${group.toString('latin1')}\0${measure}\0${member.toString('latin1')}`;
}
