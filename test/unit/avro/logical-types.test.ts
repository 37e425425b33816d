import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroType, expectedOf, schemaTextOf } from '../../../src/avro/logical-types.ts';

const schema = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'fee', type: ['null', { type: 'fixed', name: 'Fee', size: 8, logicalType: 'decimal', precision: 18, scale: 4 }], default: null },
    { name: 'updatedAt', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'opens', type: { type: 'int', logicalType: 'time-millis' } },
    { name: 'ref', type: { type: 'string', logicalType: 'uuid' } },
  ],
} as avro.Schema;

const order = {
  amount: '-0.01',
  fee: '-12345678901234.5678',
  updatedAt: 1,
  day: '2024-02-29',
  opens: '08:30:00.000',
  ref: '123e4567-e89b-12d3-a456-426614174000',
};

describe('kelt’s Avro logical types', () => {
  it('hands out logical values, and writes the bytes any Avro client reads', () => {
    const type = avroType(schema);
    const bytes = type.toBuffer(order);
    expect({ ...(type.fromBuffer(bytes) as object) }).toEqual(order);
    // A client without logical types (a producer in another language) sees Avro's own encoding.
    const plain = avro.Type.forSchema(schema) as avro.Type;
    const raw = plain.fromBuffer(bytes) as Record<string, unknown>;
    expect(raw.amount).toEqual(Buffer.from([0xff]));
    expect(raw.day).toBe(19_782);
    expect({ ...(type.fromBuffer(plain.toBuffer(raw)) as object) }).toEqual(order);
  });

  it('accepts the natural JSON of each type on the way in', () => {
    const type = avroType(schema);
    const fromJson = { ...order, amount: -0.01, updatedAt: '1970-01-01T00:00:00.000001Z', day: 19_782, opens: '08:30' };
    expect({ ...(type.fromBuffer(type.toBuffer(fromJson)) as object) }).toEqual(order);
  });

  it('names what a field expects when a value does not fit', () => {
    const type = avroType(schema);
    const problems: string[] = [];
    type.isValid(
      { ...order, amount: '1.234', day: '2023-02-29' },
      {
        errorHook: (path: string[], _value: unknown, t: avro.Type) => problems.push(`${path.join('.')}: ${expectedOf(t)}`),
      },
    );
    expect(problems).toEqual(['amount: a decimal(12,2) as text or a number', 'day: a date: YYYY-MM-DD, or days since the epoch']);
  });

  it('keeps the logical types in the schema text workers rebuild types from, and resolves a writer without them', () => {
    const type = avroType(schema);
    const rebuilt = avroType(JSON.parse(schemaTextOf(type)) as avro.Schema);
    expect({ ...(rebuilt.fromBuffer(type.toBuffer(order)) as object) }).toEqual(order);
    const plainWriter = avro.Type.forSchema(schema) as avro.Type;
    const resolver = type.createResolver(plainWriter);
    expect({ ...(type.fromBuffer(type.toBuffer(order), resolver) as object) }).toEqual(order);
  });

  it('keeps a long exact over its whole range (avsc alone flips the sign past 2^52)', () => {
    const type = avroType({
      type: 'record',
      name: 'L',
      fields: [
        { name: 'n', type: 'long' },
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-micros' } },
      ],
    } as avro.Schema);
    for (const n of [-4_503_599_627_370_497, -9_007_199_254_740_991, 9_007_199_254_740_991, 2n ** 63n - 1n, -(2n ** 63n)]) {
      expect((type.fromBuffer(type.toBuffer({ n, at: '9999-12-31T23:59:59.999999Z' })) as { n: unknown }).n).toBe(n);
    }
    expect((type.fromBuffer(type.toBuffer({ n: 0, at: '9999-12-31T23:59:59.999999Z' })) as { at: unknown }).at).toBe(253_402_300_799_999_999n);
    const plain = avro.Type.forSchema('long');
    expect(plain.fromBuffer(plain.toBuffer(-4_503_599_627_370_497))).not.toBe(-4_503_599_627_370_497);
  });
});
