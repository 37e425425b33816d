import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregatesFrom } from '../../src/pipeline/aggregates.ts';
import { columnsFromModel } from '../../src/pipeline/sql-types.ts';
import { extremeIndexes } from '../../src/mysql/extreme-indexes.ts';
import { MySqlTable } from '../../src/mysql/table.ts';
import { watermarksTableSql } from '../../src/mysql/watermarks.ts';
import { lastPerKey } from '../../src/records/record-ops.ts';
import { AggregateViews, type TableOperation } from '../../src/stages/transform/aggregate-views.ts';
import { createTestDatabase, type TestDatabase } from '../support/stack.ts';

/**
 * Aggregates are views: random sequences of batches of inserts, exact
 * repeats, corrections that move a row to another group or window, and
 * deletes, through the transform's own aggregation code (AggregateViews)
 * against the real MariaDB. After each sequence every aggregate equals its
 * model table grouped — computed here from the table's rows, read back —
 * for count, sum, min, max and count distinct, tumbling, hopping and
 * unwindowed, including groups that differ only by a trailing space.
 */
const source = {
  name: 'fct',
  primaryKey: ['id'],
  columns: { id: 'string', host: 'string', path: 'text', usr: 'string', at: 'timestamp', bytes: 'long', score: 'double', small: 'int' },
};
const issues: string[] = [];
const aggregates = aggregatesFrom(
  [
    {
      name: 'agg_tumbling',
      from: 'fct',
      groupBy: ['host', 'path'],
      window: { column: 'at', size: '1h', as: 'hour' },
      measures: {
        n: 'count',
        users: 'count_distinct(usr)',
        bytes: 'sum(bytes)',
        score: 'sum(score)',
        first: 'min(at)',
        last: 'max(at)',
        lo: 'min(bytes)',
        hi: 'max(score)',
      },
    },
    {
      name: 'agg_hopping',
      from: 'fct',
      groupBy: ['host'],
      window: { column: 'at', size: '1h', slide: '20m', as: 'w' },
      measures: { n: 'count', users: 'count_distinct(usr)', total: 'sum(small)', top: 'max(small)' },
    },
    {
      name: 'agg_whole',
      from: 'fct',
      groupBy: [],
      measures: { n: 'count', s: 'sum(bytes)', lo: 'min(small)', hi: 'max(bytes)', hosts: 'count_distinct(host)' },
    },
  ],
  [source],
  issues,
);
const plain = new MySqlTable('fct', columnsFromModel(source.columns, source.primaryKey), source.primaryKey);
const fct = new MySqlTable('fct', plain.columns, plain.primaryKey, { indexes: extremeIndexes(aggregates, plain) });
const views = new AggregateViews({ aggregates, modelTables: [fct], groupId: 'g', partitions: 1 });

const base = Date.UTC(2026, 10, 20, 9, 0, 0);
const row = fc.record({
  host: fc.constantFrom('a', 'b', 'a ', null),
  path: fc.constantFrom('/', '/x', null),
  usr: fc.constantFrom('u1', 'u2', 'u3', null),
  at: fc
    .constantFrom(0, 1, 19 * 60_000, 20 * 60_000 - 1, 59 * 60_000 + 59_999, 60 * 60_000, 95 * 60_000, 150 * 60_000)
    .map((offset) => base + offset),
  bytes: fc.constantFrom(null, '0', '1', '-5', '9223372036854775807', '9007199254740993'),
  score: fc.constantFrom(null, 0.5, 1.25, -2),
  small: fc.constantFrom(null, -3, 0, 7, 2_147_483_647),
});
type Row = {
  host: string | null;
  path: string | null;
  usr: string | null;
  at: number;
  bytes: string | null;
  score: number | null;
  small: number | null;
};
type Step = { kind: 'upsert'; id: number; row: Row } | { kind: 'repeat'; id: number } | { kind: 'delete'; id: number };
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('upsert' as const), id: fc.nat(11), row }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('repeat' as const), id: fc.nat(11) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.nat(11) }) },
);
const batches = fc.array(fc.array(step, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 });

describe('aggregates are views of their model table (real MariaDB)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    expect(issues).toEqual([]);
    db = await createTestDatabase();
    await db.pool.query(watermarksTableSql);
    await db.pool.query(fct.createSql());
    for (const view of views.tables) for (const table of [view.table, view.members]) if (table !== undefined) await db.pool.query(table.createSql());
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** Writes one batch as the transform does: old rows locked, each key's last operation written, the aggregates moved, in one transaction. */
  async function writeBatch(operations: TableOperation[]): Promise<void> {
    const connection = await db.pool.getConnection();
    try {
      await connection.beginTransaction();
      const changes = await views.lock(connection, [operations], 1000);
      const keyText = (operation: TableOperation) => JSON.stringify('row' in operation ? fct.keyOfRow(operation.row) : operation.key);
      const last = lastPerKey(operations, keyText);
      const deletes = operations
        .filter((operation) => last.has(operation) && 'key' in operation)
        .map((operation) => (operation as { key: unknown[] }).key);
      const rows = operations
        .filter((operation) => last.has(operation) && 'row' in operation)
        .map((operation) => (operation as { row: unknown[] }).row);
      if (deletes.length > 0) await fct.delete(connection, deletes, 1000);
      if (rows.length > 0) await fct.upsert(connection, rows, 1000);
      await views.apply(connection, changes, 0, 1000);
      await connection.commit();
    } finally {
      connection.release();
    }
  }

  it('after every sequence of batches, each aggregate equals GROUP BY over the model table', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(batches, async (sequence) => {
        for (const table of [
          'fct',
          ...views.tables.flatMap((view) => [view.table.name, ...(view.members === undefined ? [] : [view.members.name])]),
        ]) {
          await db.pool.query(`DELETE FROM \`${table}\``);
        }
        const current = new Map<number, Row>();
        for (const batch of sequence) {
          const operations: TableOperation[] = [];
          for (const item of batch) {
            if (item.kind === 'delete') {
              operations.push({ key: [`id${item.id}`] });
              current.delete(item.id);
              continue;
            }
            const value = item.kind === 'upsert' ? item.row : current.get(item.id);
            if (value === undefined) continue;
            current.set(item.id, value);
            operations.push({ row: fct.rowOf({ id: `id${item.id}`, ...value }) });
          }
          await writeBatch(operations);
        }
        const expected = groupedModelTable(await modelRows());
        for (const [name, groups] of expected) expect(await aggregateRows(name), name).toEqual(groups);
        compared += expected.size;
      }),
      { numRuns: 60 },
    );
    expect(compared).toBe(60 * 3);
  });

  /** The model table as it is, read back by SQL of its own (times as ms). */
  async function modelRows(): Promise<Row[]> {
    const [rows] = await db.pool.query(
      `SELECT host, path, usr, TIMESTAMPDIFF(MICROSECOND, '1970-01-01', at) DIV 1000 AS at, CAST(bytes AS CHAR) AS bytes, score, small FROM fct`,
    );
    return (rows as Array<Row & { at: string | number }>).map((r) => ({ ...r, at: Number(r.at) }));
  }

  /** Each aggregate as its model table grouped: name → group key → measures, computed from the rows. */
  function groupedModelTable(rows: Row[]): Map<string, Map<string, Record<string, unknown>>> {
    const result = new Map<string, Map<string, Record<string, unknown>>>();
    for (const aggregate of aggregates) {
      const groups = new Map<string, Row[]>();
      for (const r of rows) {
        const starts: Array<number | null> = [];
        if (aggregate.window === undefined) starts.push(null);
        else
          for (
            let s = Math.floor(r.at / aggregate.window.slideMs) * aggregate.window.slideMs;
            s > r.at - aggregate.window.sizeMs;
            s -= aggregate.window.slideMs
          )
            starts.push(s);
        for (const start of starts) {
          const key = JSON.stringify([start, ...aggregate.groupBy.map((column) => r[column as keyof Row])]);
          groups.set(key, [...(groups.get(key) ?? []), r]);
        }
      }
      const measured = new Map<string, Record<string, unknown>>();
      for (const [key, members] of groups) {
        const values: Record<string, unknown> = {};
        for (const measure of aggregate.measures) {
          const of = (r: Row) => r[measure.of as keyof Row];
          const present = members.map(of).filter((value) => value !== null);
          if (measure.kind === 'count') values[measure.name] = String(members.length);
          if (measure.kind === 'count_distinct') values[measure.name] = String(new Set(present).size);
          if (measure.kind === 'sum') {
            values[measure.name] =
              present.length === 0
                ? null
                : measure.of === 'score'
                  ? present.reduce((sum: number, value) => sum + Number(value), 0)
                  : present.reduce((sum: bigint, value) => sum + BigInt(value as string | number), 0n).toString();
          }
          if (measure.kind === 'min' || measure.kind === 'max') {
            const pick = (a: bigint, b: bigint) => (measure.kind === 'min' ? (a < b ? a : b) : a > b ? a : b);
            values[measure.name] =
              present.length === 0
                ? null
                : measure.of === 'score'
                  ? (measure.kind === 'min' ? Math.min : Math.max)(...present.map(Number))
                  : present
                      .map((value) => BigInt(String(value)))
                      .reduce(pick)
                      .toString();
          }
        }
        measured.set(key, values);
      }
      result.set(aggregate.name, measured);
    }
    return result;
  }

  /** An aggregate table as it is, in the shape of groupedModelTable (times as ms, integers as text). */
  async function aggregateRows(name: string): Promise<Map<string, Record<string, unknown>>> {
    const aggregate = aggregates.find((candidate) => candidate.name === name)!;
    const asText = (column: string, of: string | undefined) =>
      of === 'at'
        ? `CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', \`${column}\`) DIV 1000 AS CHAR)`
        : of === 'score'
          ? `\`${column}\``
          : `CAST(\`${column}\` AS CHAR)`;
    const selected = [
      aggregate.window === undefined
        ? 'NULL AS kelt_start'
        : `TIMESTAMPDIFF(MICROSECOND, '1970-01-01', \`${aggregate.window.as}\`) DIV 1000 AS kelt_start`,
      ...aggregate.groupBy.map((column) => `\`${column}\``),
      ...aggregate.measures.map(
        (measure) =>
          `${asText(measure.name, measure.kind === 'count' || measure.kind === 'count_distinct' ? undefined : measure.of)} AS \`${measure.name}\``,
      ),
    ];
    const [rows] = await db.pool.query(`SELECT ${selected.join(', ')} FROM \`${name}\``);
    return new Map(
      (rows as Array<Record<string, unknown>>).map((r) => {
        const start = r.kelt_start === null ? null : Number(r.kelt_start);
        const values = Object.fromEntries(aggregate.measures.map((measure) => [measure.name, r[measure.name]]));
        return [JSON.stringify([start, ...aggregate.groupBy.map((column) => r[column])]), values];
      }),
    );
  }
});
