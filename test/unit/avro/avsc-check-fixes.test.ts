import { describe, expect, it } from 'vitest';
import { avroType, mismatches } from '../../../src/avro/logical-types.ts';

/** avsc's int and enum checks as kelt patches them (src/avro/avsc-check-fixes.ts). */
describe('avsc check fixes', () => {
  const record = avroType({
    type: 'record',
    name: 'R',
    fields: [
      { name: 'n', type: 'int' },
      { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
    ],
  });

  it('refuses an object whose toString is not a function as an int or an enum symbol, naming the field, instead of throwing', () => {
    expect(mismatches(record, { n: { toString: 0 }, kind: 'A' })).toEqual(['n: {"toString":0} is not an int']);
    expect(mismatches(record, { n: 1, kind: { valueOf: 1, toString: 2 } })).toHaveLength(1);
  });

  it('takes only the declared symbols for an enum, not Object.prototype’s members', () => {
    for (const symbol of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(record.isValid({ n: 1, kind: symbol }), symbol).toBe(false);
      expect(() => record.toBuffer({ n: 1, kind: symbol }), symbol).toThrow();
    }
    expect(record.fromBuffer(record.toBuffer({ n: -7, kind: 'B' }))).toEqual({ n: -7, kind: 'B' });
  });

  it('still refuses what was never an int', () => {
    for (const value of ['5', true, 1.5, 2 ** 31, null, [], {}]) expect(record.isValid({ n: value, kind: 'A' }), String(value)).toBe(false);
  });
});
