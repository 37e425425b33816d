import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../../../src/errors.ts';
import { aggregatesFrom } from '../../../../src/pipeline/aggregates.ts';
import { modelColumnType } from '../../../../src/pipeline/sql-types.ts';
import { canonicalOf, compareOf } from '../../../../src/pipeline/canonical-values.ts';
import { aggregateDeltas, contributionsOf } from '../../../../src/stages/transform/batch-aggregation.ts';

/**
 * The aggregate measures over any rows the model columns let through: each
 * batch either aggregates exactly (counts, integer sums to the unit) or a
 * row is refused with kelt's dead-letter error — never another exception.
 */
const source = {
  name: 'fct',
  primaryKey: ['id'],
  columns: { id: 'string', host: 'text', user: 'string', at: 'timestamp', bytes: 'long', score: 'double', small: 'int' },
};
const columnNames = Object.keys(source.columns);
const converters = columnNames.map((name) => {
  const column = modelColumnType(source.columns[name as keyof typeof source.columns], name === 'id');
  if (typeof column === 'string') throw new Error(column);
  return column;
});
const issues: string[] = [];
const [aggregate] = aggregatesFrom(
  [
    {
      name: 'agg',
      from: 'fct',
      groupBy: ['host', 'small'],
      window: { column: 'at', size: '1h', as: 'hour' },
      measures: {
        rows: 'count',
        users: 'count_distinct(user)',
        bytes: 'sum(bytes)',
        small_sum: 'sum(small)',
        score: 'sum(score)',
        first: 'min(at)',
        top: 'max(score)',
      },
    },
  ],
  [source],
  issues,
);
const sqlTypes = converters.map((converter) => converter.sqlType);
const reading = {
  exactSums: aggregate!.measures.map((measure) => measure.kind === 'sum' && measure.of !== 'score'),
  compares: aggregate!.measures.map((measure) => (measure.of === undefined ? undefined : compareOf(sqlTypes[columnNames.indexOf(measure.of)]!))),
};
const index = (column: string) => columnNames.indexOf(column);

const edge = fc.constantFrom<unknown>(
  null,
  0,
  -0,
  1,
  -1,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 53,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  9_223_372_036_854_775_807n,
  -(2n ** 63n),
  '9223372036854775807',
  '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '0001-01-01T00:00:00Z',
  1_767_225_600_000,
  '',
);
const anyValue = fc.oneof(edge, fc.anything({ withBigInt: true, withDate: true, maxDepth: 1 }));

/** Per column: values of its kind, edge values, anything. */
const typical = [
  fc.string(),
  fc.oneof(fc.string(), fc.constant(null)),
  fc.oneof(fc.string({ maxLength: 2 }), fc.constant(null)),
  fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }),
  fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constant(null)),
  fc.oneof(fc.double(), fc.constant(null)),
  fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constant(null)),
].map((kind) => fc.oneof({ weight: 6, arbitrary: kind }, { weight: 1, arbitrary: edge }, { weight: 1, arbitrary: anyValue }));

/** A row as the model table's converters make it, or undefined when a converter refuses a value (that record is dead-lettered before). */
const convertedRow = fc.tuple(...typical).map((values) => {
  try {
    // The id column is the primary key, text: any value as its text (fc.stringify, since String() throws on an object whose toString is not a function).
    const row = values.map((value, c) => converters[c]!.toSql(c === 0 ? (typeof value === 'string' ? value : fc.stringify(value)) : value));
    return row.map((value, c) => canonicalOf(sqlTypes[c]!)(value));
  } catch (error) {
    expect(error).toBeInstanceOf(PermanentError);
    return undefined;
  }
});

describe('aggregate measures, for any rows the model table takes', () => {
  it('aggregate exactly, and taking the same rows away leaves nothing', () => {
    expect(issues).toEqual([]);
    let aggregated = 0;
    let empty = 0;
    fc.assert(
      fc.property(fc.array(convertedRow, { maxLength: 40 }), (rows) => {
        const accepted: unknown[][] = [];
        const contributions = [];
        for (const row of rows) {
          if (row === undefined) continue;
          const added = contributionsOf(aggregate!, row, index, 1);
          contributions.push(...added);
          if (added.length > 0) accepted.push(row);
        }
        const groups = aggregateDeltas(aggregate!, contributions, reading);
        const measure = (name: string) => aggregate!.measures.findIndex((m) => m.name === name);
        expect(groups.reduce((sum, group) => sum + group.rows, 0)).toBe(accepted.length);
        const bytes = accepted
          .filter((row) => row[index('bytes')] !== null)
          .reduce((sum, row) => sum + BigInt(row[index('bytes')] as string | number), 0n);
        const summed = groups.reduce((sum, group) => sum + (group.measures[measure('bytes')] as { sum: bigint }).sum, 0n);
        expect(summed).toBe(bytes);
        const retracted = contributions.map((contribution) => ({ ...contribution, sign: -1 as const }));
        for (const group of aggregateDeltas(aggregate!, [...contributions, ...retracted], reading)) {
          expect(group.rows).toBe(0);
          for (const delta of group.measures) {
            if (delta.kind === 'count_distinct') expect(delta.members).toEqual([]);
            if (delta.kind === 'sum') expect(delta.nonNull).toBe(0);
            if (delta.kind === 'sum' && typeof delta.sum === 'bigint') expect(delta.sum).toBe(0n);
          }
        }
        if (accepted.length > 0) aggregated++;
        else empty++;
        for (const group of groups) {
          expect(group.groupHash).toHaveLength(16);
          expect(typeof (group.measures[measure('score')] as { sum: unknown }).sum).toBe('number');
        }
      }),
      { numRuns: 500 },
    );
    // Most batches must hold rows, or the property says little.
    expect(aggregated).toBeGreaterThan(empty);
  });
});
