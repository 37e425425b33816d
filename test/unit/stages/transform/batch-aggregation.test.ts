import { describe, expect, it } from 'vitest';
import { aggregatesFrom, type Aggregate } from '../../../../src/pipeline/aggregates.ts';
import { aggregateBatch, contributionOf, hashOf } from '../../../../src/stages/transform/batch-aggregation.ts';

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

  it('puts each row in its event-time window, whatever the order rows come in', () => {
    const late = contributionOf(hourly, row('1', 'a', 'u1', '2026-11-23 09:59:59.999', 1, 1), index);
    const early = contributionOf(hourly, row('2', 'a', 'u1', '2026-11-23 07:00:00.000', 1, 1), index);
    expect(late.windowStart).toBe('2026-11-23 09:00:00.000');
    expect(early.windowStart).toBe('2026-11-23 07:00:00.000');
    expect(late.windowStartMs).toBe(Date.UTC(2026, 10, 23, 9));
    const beforeEpoch = contributionOf(hourly, row('3', 'a', 'u1', '1969-12-31 23:30:00.000', 1, 1), index);
    expect(beforeEpoch.windowStart).toBe('1969-12-31 23:00:00.000');
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
    const groups = aggregateBatch(
      hourly,
      rows.map((r) => contributionOf(hourly, r, index)),
      [false, false, true, false, false, false],
    );
    expect(groups).toHaveLength(4);
    const a9 = groups.find((group) => group.groupValues[0] === 'a' && group.windowStart === '2026-11-23 09:00:00.000')!;
    expect(a9.measures).toEqual([3, null, 9007199254740995n, 0.75, '2026-11-23 09:05:00.000', '2026-11-23 09:20:00.000']);
    expect(a9.members.get(1)).toHaveLength(2);
    const b9 = groups.find((group) => group.groupValues[0] === 'b')!;
    expect(b9.members.has(1)).toBe(false);
    expect(b9.measures[3]).toBe(1);
    expect(groups.find((group) => group.groupValues[0] === null)!.measures[0]).toBe(1);
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

  it('refuses a row without a window as a bad row of that record', () => {
    expect(() => contributionOf(hourly, row('1', 'a', 'u1', null, 1, 1), index)).toThrow(/at is null/);
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
