import { describe, expect, it } from 'vitest';
import { aggregatesFrom, type Aggregate } from '../../../../src/pipeline/aggregates.ts';
import { canonicalOf, compareOf } from '../../../../src/pipeline/canonical-values.ts';
import { aggregateDeltas, contributionsOf, hashOf, sameContributions } from '../../../../src/stages/transform/batch-aggregation.ts';

const source = {
  name: 'fct',
  primaryKey: ['id'],
  columns: { id: 'string', host: 'string', user: 'string', at: 'timestamp', bytes: 'long', score: 'double', note: 'text' },
};

function aggregateOf(spec: Parameters<typeof aggregatesFrom>[0][number]): Aggregate {
  const issues: string[] = [];
  const [aggregate] = aggregatesFrom([spec], [source], issues);
  expect(issues).toEqual([]);
  return aggregate!;
}

const columns = Object.keys(source.columns);
const row = (id: string, host: string | null, user: string | null, at: string | null, bytes: number | string | null, score: number | null) => [
  id,
  host,
  user,
  at,
  bytes,
  score,
  null,
];
const index = (column: string) => columns.indexOf(column);

describe('batch aggregation', () => {
  const hourly = aggregateOf({
    name: 'agg',
    from: 'fct',
    groupBy: ['host'],
    window: { column: 'at', size: '1h', as: 'hour' },
    measures: { views: 'count', users: 'count_distinct(user)', bytes: 'sum(bytes)', score: 'sum(score)', first: 'min(at)', last: 'max(at)' },
  });

  const reading = {
    exactSums: [false, false, true, false, false, false],
    compares: [undefined, undefined, undefined, undefined, compareOf('DATETIME(3)'), compareOf('DATETIME(3)')],
  };
  const add = (r: unknown[]) => contributionsOf(hourly, r, index, 1);
  const take = (r: unknown[]) => contributionsOf(hourly, r, index, -1);

  it('puts each row in its event-time window, whatever the order rows come in', () => {
    const [late] = add(row('1', 'a', 'u1', '2026-11-23 09:59:59.999', 1, 1));
    const [early] = add(row('2', 'a', 'u1', '2026-11-23 07:00:00.000', 1, 1));
    expect(late!.windowStart).toBe('2026-11-23 09:00:00.000');
    expect(early!.windowStart).toBe('2026-11-23 07:00:00.000');
    expect(late!.windowStartMs).toBe(Date.UTC(2026, 10, 23, 9));
    const [beforeEpoch] = add(row('3', 'a', 'u1', '1969-12-31 23:30:00.000', 1, 1));
    expect(beforeEpoch!.windowStart).toBe('1969-12-31 23:00:00.000');
  });

  it('puts a row in every hopping window that covers it', () => {
    const hopping = aggregateOf({
      name: 'hop',
      from: 'fct',
      groupBy: [],
      window: { column: 'at', size: '1h', slide: '20m', as: 'w' },
      measures: { n: 'count' },
    });
    const windows = contributionsOf(hopping, row('1', 'a', 'u1', '2026-11-23 09:25:00.000', 1, 1), index, 1).map((c) => c.windowStart);
    expect(windows).toEqual(['2026-11-23 09:20:00.000', '2026-11-23 09:00:00.000', '2026-11-23 08:40:00.000']);
    const onEdge = contributionsOf(hopping, row('1', 'a', 'u1', '2026-11-23 09:20:00.000', 1, 1), index, 1).map((c) => c.windowStart);
    expect(onEdge).toEqual(['2026-11-23 09:20:00.000', '2026-11-23 09:00:00.000', '2026-11-23 08:40:00.000']);
    const odd = aggregateOf({
      name: 'odd',
      from: 'fct',
      groupBy: [],
      window: { column: 'at', size: '1h', slide: '25m', as: 'w' },
      measures: { n: 'count' },
    });
    const at = Date.UTC(2026, 10, 23, 0, 30);
    const starts = contributionsOf(odd, row('1', 'a', 'u1', '2026-11-23 00:30:00.000', 1, 1), index, 1).map((c) => c.windowStartMs!);
    expect(starts).toHaveLength(3);
    for (const start of starts) {
      expect(start % (25 * 60_000)).toBe(0);
      expect(start <= at && at < start + 3_600_000).toBe(true);
    }
  });

  it('takes away what a row added: a correction moves it, a repeat changes nothing', () => {
    const before = row('1', 'a', 'u1', '2026-11-23 09:10:00.000', 5, 0.5);
    const after = row('1', 'b', 'u1', '2026-11-23 09:10:00.000', 7, 0.5);
    expect(sameContributions(take(before), add([...before]))).toBe(true);
    expect(sameContributions(take(before), add(after))).toBe(false);
    const deltas = aggregateDeltas(hourly, [...take(before), ...add(after)], reading);
    const [a, b] = [deltas.find((d) => d.groupValues[0] === 'a')!, deltas.find((d) => d.groupValues[0] === 'b')!];
    expect(a.rows).toBe(-1);
    expect(a.measures[1]).toMatchObject({ members: [{ rows: -1 }] });
    expect(a.measures[2]).toEqual({ kind: 'sum', sum: -5n, nonNull: -1 });
    expect(a.measures[4]).toEqual({ kind: 'min', added: null, retracted: '2026-11-23 09:10:00.000' });
    expect(b.rows).toBe(1);
    expect(b.measures[2]).toEqual({ kind: 'sum', sum: 7n, nonNull: 1 });
    const cancelled = aggregateDeltas(hourly, [...add(before), ...take(before)], reading);
    expect(cancelled[0]).toMatchObject({
      rows: 0,
      changes: 2,
      measures: [{ kind: 'count' }, { members: [] }, { sum: 0n, nonNull: 0 }, { sum: 0, nonNull: 0 }, { kind: 'min' }, { kind: 'max' }],
    });
  });

  it('reads a value in one form from MySQL and from the transform', () => {
    expect(canonicalOf('BIGINT')(9007199254740993n)).toBe(canonicalOf('BIGINT')('9007199254740993'));
    expect(canonicalOf('INT')(5)).toBe('5');
    expect(canonicalOf('BOOLEAN')('1')).toBe(canonicalOf('BOOLEAN')(true));
    expect(canonicalOf('DOUBLE')('1e300')).toBe(1e300);
    expect(canonicalOf('DATETIME(3)')('2026-11-23 09:10:00.000')).toBe('2026-11-23 09:10:00.000');
    expect(compareOf('BIGINT')('10', '9')).toBe(1);
  });

  it('pre-aggregates a batch to one increment per group, with exact integer sums, nulls ignored', () => {
    const rows = [
      row('1', 'a', 'u1', '2026-11-23 09:10:00.000', '9007199254740993', 0.5),
      row('2', 'a', 'u2', '2026-11-23 09:20:00.000', 2, null),
      row('3', 'a', 'u1', '2026-11-23 09:05:00.000', null, 0.25),
      row('4', 'b', null, '2026-11-23 09:30:00.000', 5, 1),
      row('5', 'a', 'u3', '2026-11-23 10:00:00.000', 1, 1),
      row('6', null, 'u1', '2026-11-23 09:00:00.000', 1, 1),
    ];
    const groups = aggregateDeltas(hourly, rows.flatMap(add), reading);
    expect(groups).toHaveLength(4);
    const a9 = groups.find((group) => group.groupValues[0] === 'a' && group.windowStart === '2026-11-23 09:00:00.000')!;
    expect(a9.rows).toBe(3);
    expect(a9.measures.slice(2)).toEqual([
      { kind: 'sum', sum: 9007199254740995n, nonNull: 2 },
      { kind: 'sum', sum: 0.75, nonNull: 2 },
      { kind: 'min', added: '2026-11-23 09:05:00.000', retracted: null },
      { kind: 'max', added: '2026-11-23 09:20:00.000', retracted: null },
    ]);
    expect((a9.measures[1] as { members: Array<{ rows: number }> }).members.map((member) => member.rows).sort()).toEqual([1, 2]);
    const b9 = groups.find((group) => group.groupValues[0] === 'b')!;
    expect(b9.measures[1]).toEqual({ kind: 'count_distinct', members: [] });
    expect(b9.measures[3]).toEqual({ kind: 'sum', sum: 1, nonNull: 1 });
    expect(groups.find((group) => group.groupValues[0] === null)!.rows).toBe(1);
    // Key order, so that concurrent members lock rows in one order.
    const keys = groups.map((group) => group.groupHash.toString('hex'));
    expect(keys).toEqual([...keys].sort());
  });

  it('hashes a value as its column stores it, and tells null from empty', () => {
    expect(hashOf([5])).toEqual(hashOf(['5']));
    expect(hashOf([null])).not.toEqual(hashOf(['']));
    expect(hashOf(['a', 'bc'])).not.toEqual(hashOf(['ab', 'c']));
    expect(hashOf([Buffer.from('x')])).not.toEqual(hashOf(['x']));
  });

  it('counts a row without a window time in no window, as GROUP BY over the table would', () => {
    expect(add(row('1', 'a', 'u1', null, 1, 1))).toEqual([]);
  });

  it('validates measures and columns against the source table', () => {
    const issues: string[] = [];
    aggregatesFrom(
      [
        {
          name: 'bad',
          from: 'fct',
          groupBy: ['nope'],
          window: { column: 'host', size: '1h', as: 'h' },
          measures: { s: 'sum(note)', m: 'median(bytes)', c: 'count(id)' },
        },
        { name: 'fct', from: 'other', groupBy: [], measures: { c: 'count' } },
      ],
      [source],
      issues,
    );
    expect(issues).toEqual([
      'transform.aggregates.0.groupBy.0: nope is not a column of fct',
      'transform.aggregates.0.window.column: host is string, not a timestamp',
      'transform.aggregates.0.measures.s: sum needs an int, long or double column; note is text',
      'transform.aggregates.0.measures.m: median(bytes) must be count, sum(column), min(column), max(column) or count_distinct(column)',
      'transform.aggregates.0.measures.c: count(id) must be count, sum(column), min(column), max(column) or count_distinct(column)',
      'transform.aggregates.1.name: fct is also a model table',
      'transform.aggregates.1.from: other is not one of transform.tables',
    ]);
  });
});
