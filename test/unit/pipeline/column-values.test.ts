import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../../src/errors.ts';
import { booleanValue, doubleValue, floatValue, intValue, jsonValue, longValue } from '../../../src/pipeline/column-values.ts';

const refused = (convert: (value: unknown) => unknown, value: unknown) => {
  try {
    convert(value);
  } catch (error) {
    expect(error).toBeInstanceOf(PermanentError);
    return (error as Error).message;
  }
  throw new Error(`${String(value)} was accepted`);
};

describe('numeric and boolean column values', () => {
  it('refuses NaN and the infinities for every number column, which MySQL would read as column names', () => {
    for (const convert of [intValue, longValue, floatValue, doubleValue]) {
      for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
        expect(refused(convert, value)).toMatch(/not (an integer|a finite number)/);
    }
  });

  it('takes an integer column’s values exactly within its range, as numbers, bigints or digits', () => {
    expect(intValue(2_147_483_647)).toBe(2_147_483_647);
    expect(intValue('-2147483648')).toBe('-2147483648');
    expect(longValue(9_223_372_036_854_775_807n)).toBe('9223372036854775807');
    expect(longValue(null)).toBeNull();
    expect(refused(intValue, 2_147_483_648)).toMatch(/outside the range of INT/);
    expect(refused(longValue, 2n ** 63n)).toMatch(/outside the range of BIGINT/);
    expect(refused(intValue, 1.5)).toMatch(/not an integer/);
    expect(refused(longValue, '12abc')).toMatch(/not an integer/);
    expect(refused(intValue, { n: 1 })).toMatch(/an object is not an integer/);
  });

  it('takes finite numbers for FLOAT and DOUBLE, and a bigint only where a double holds it exactly', () => {
    expect(doubleValue(-0.1)).toBe(-0.1);
    expect(doubleValue(2n ** 60n)).toBe(2 ** 60);
    expect(refused(doubleValue, 2n ** 60n + 1n)).toMatch(/not a number/);
    expect(floatValue(3.4e38)).toBe(3.4e38);
    expect(refused(floatValue, 3.5e38)).toMatch(/outside the range of FLOAT/);
    expect(refused(doubleValue, '1.5')).toMatch(/not a number/);
  });

  it('takes booleans, and 0 or 1', () => {
    expect([booleanValue(true), booleanValue(0), booleanValue(1)]).toEqual([true, false, true]);
    expect(refused(booleanValue, 'yes')).toMatch(/not a boolean/);
  });

  it('refuses a non-finite number inside JSON, which JSON.stringify would write as null', () => {
    expect(refused(jsonValue, { score: Number.NaN })).toMatch(/NaN is not a finite number \(at score\)/);
    expect(refused(jsonValue, [1, Number.POSITIVE_INFINITY])).toMatch(/Infinity is not a finite number/);
    expect(jsonValue({ score: 1.5 })).toBe('{"score":1.5}');
    expect(refused(jsonValue, { at: () => 1 })).toMatch(/a function has no JSON \(at at\)/);
    expect(refused(jsonValue, Symbol('s'))).toMatch(/a symbol has no JSON/);
  });
});
