import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../../src/errors.ts';
import { modelColumnType } from '../../../src/pipeline/sql-types.ts';

/**
 * Every model column type over arbitrary values: a value either converts to
 * a parameter MySQL takes as it is, or is refused with kelt's dead-letter
 * error — never another exception, which would stop the stage instead of
 * dead-lettering the record.
 */
const types = [
  'string',
  'varchar(3)',
  'text',
  'int',
  'long',
  'double',
  'boolean',
  'decimal(5,2)',
  'decimal(65,30)',
  'date',
  'time',
  'time(6)',
  'timestamp',
  'timestamp(6)',
  'bytes',
  'uuid',
  'json',
];

const edgeValues = fc.constantFrom<unknown>(
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  2 ** 53,
  -(2 ** 63),
  2n ** 64n,
  -(2n ** 63n),
  '1e400',
  '-0',
  '',
  ' 1',
  '0x10',
  '9999-12-31',
  '0000-00-00',
  '24:00:00',
  new Date(Number.NaN),
  new Date(8.64e15),
  new Uint8Array([0, 255]),
  { nested: [Number.NaN] },
  [1, [2, [Number.POSITIVE_INFINITY]]],
  Symbol('s'),
  () => 1,
  Object.create(null),
);
const values = fc.oneof(fc.anything({ withBigInt: true, withDate: true, withTypedArray: true, withNullPrototype: true }), edgeValues);

describe('column values, for any value', () => {
  for (const type of types) {
    it(`${type}: converts exactly or refuses with a dead-letter error`, () => {
      const column = modelColumnType(type, false);
      if (typeof column === 'string') throw new Error(`${type}: ${column}`);
      fc.assert(
        fc.property(values, (value) => {
          let converted: unknown;
          try {
            converted = column.toSql(value);
          } catch (error) {
            expect(error, `${type} ← ${fc.stringify(value)}`).toBeInstanceOf(PermanentError);
            return;
          }
          if (typeof converted === 'number') expect(Number.isFinite(converted)).toBe(true);
          expect(['string', 'number', 'boolean', 'object']).toContain(typeof converted);
          if (typeof converted === 'object' && converted !== null) expect(converted).toBeInstanceOf(Buffer);
        }),
        { numRuns: 2_000 },
      );
    });
  }
});
