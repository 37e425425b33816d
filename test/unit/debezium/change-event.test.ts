import { parseExactJson } from '../../../src/values/exact-json.ts';
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../../src/errors.ts';
import { changeEventOf, changeEventOfJson, rowEncodingOfAvroSchema } from '../../../src/debezium/change-event.ts';

/** A row struct's fields as the JSON converter embeds them (schemas.enable=true). */
const rowFields = [
  { type: 'int32', optional: false, field: 'id' },
  {
    type: 'bytes',
    optional: true,
    name: 'org.apache.kafka.connect.data.Decimal',
    version: 1,
    parameters: { scale: '2', 'connect.decimal.precision': '12' },
    field: 'balance',
  },
  { type: 'int32', optional: true, name: 'io.debezium.time.Date', version: 1, field: 'born' },
  { type: 'int64', optional: true, name: 'io.debezium.time.Timestamp', version: 1, field: 'seen_ms' },
  { type: 'int64', optional: true, name: 'io.debezium.time.MicroTimestamp', version: 1, field: 'seen_us' },
  { type: 'string', optional: true, name: 'io.debezium.time.ZonedTimestamp', version: 1, field: 'changed' },
  { type: 'int64', optional: true, name: 'io.debezium.time.MicroTime', version: 1, field: 'opens' },
  { type: 'int32', optional: true, name: 'org.apache.kafka.connect.data.Time', version: 1, field: 'closes' },
  { type: 'struct', optional: true, name: 'io.debezium.data.VariableScaleDecimal', field: 'ratio', fields: [] },
];
const withSchema = (payload: Record<string, unknown>) => ({
  schema: {
    type: 'struct',
    name: 'src.shop.customers.Envelope',
    fields: [
      { type: 'struct', optional: true, name: 'src.shop.customers.Value', field: 'before', fields: rowFields },
      { type: 'struct', optional: true, name: 'src.shop.customers.Value', field: 'after', fields: rowFields },
      { type: 'string', optional: false, field: 'op' },
    ],
  },
  payload,
});
/** -1234.56 and 0.05 as the unscaled two's complement, base64 (Debezium's precise decimals). */
const minus1234_56 = Buffer.from([0xfe, 0x1d, 0xc0]).toString('base64');
const row = {
  id: 7,
  balance: minus1234_56,
  born: 19_000,
  seen_ms: 1_767_225_600_123,
  seen_us: 1_767_225_600_123_456,
  changed: '2026-12-02T10:00:00.5Z',
  opens: 30_600_000_001,
  closes: 64_800_000,
  ratio: { scale: 3, value: Buffer.from([0x30, 0x39]).toString('base64') },
};

describe('changeEventOfJson', () => {
  it('converts each value of an embedded-schema event by its semantic type, exactly', () => {
    expect(changeEventOfJson(withSchema({ before: null, after: row, op: 'c' }))).toEqual({
      op: 'c',
      row: {
        id: 7,
        balance: '-1234.56',
        born: 19_000,
        seen_ms: '2026-01-01T00:00:00.123Z',
        seen_us: '2026-01-01T00:00:00.123456Z',
        changed: '2026-12-02T10:00:00.5Z',
        opens: '08:30:00.000001',
        closes: '18:00:00',
        ratio: '12.345',
      },
    });
  });

  it('reads an update and a snapshot read as their row after, a delete as its row before', () => {
    const before = { ...row, balance: Buffer.from([0x00]).toString('base64') };
    expect(changeEventOfJson(withSchema({ before, after: row, op: 'u' }))).toMatchObject({ op: 'u', row: { balance: '-1234.56' } });
    expect(changeEventOfJson(withSchema({ before: null, after: row, op: 'r' }))).toMatchObject({ op: 'r', row: { id: 7 } });
    expect(changeEventOfJson(withSchema({ before, after: null, op: 'd' }))).toMatchObject({ op: 'd', row: { balance: '0.00' } });
    expect(changeEventOfJson(withSchema({ before: null, after: null, op: 't' }))).toEqual({ op: 't' });
  });

  it('refuses a decimal scale or size no DECIMAL holds by name, before allocating for it; reads 64-bit values from their digits', () => {
    const huge = { ...row, ratio: { scale: 500_000_000, value: 'AQ==' } };
    expect(() => changeEventOfJson(withSchema({ before: null, after: huge, op: 'c' }))).toThrow(/ratio: scale 500000000 is outside a DECIMAL's 0–30/);
    for (const scale of [-1, 2.5]) {
      expect(() => changeEventOfJson(withSchema({ before: null, after: { ...row, ratio: { scale, value: 'AQ==' } }, op: 'c' }))).toThrow(
        /ratio: scale/,
      );
    }
    const long = { ...row, ratio: { scale: 0, value: Buffer.alloc(40, 1).toString('base64') } };
    expect(() => changeEventOfJson(withSchema({ before: null, after: long, op: 'c' }))).toThrow(/ratio: .*at most 28 bytes/);
    const far = JSON.parse(JSON.stringify(withSchema({ before: null, after: row, op: 'c' }))) as unknown;
    const text = JSON.stringify(far).replace('"seen_us":1767225600123456', '"seen_us":253402300799999999');
    expect(changeEventOfJson(parseExactJson(text))).toMatchObject({ row: { seen_us: '9999-12-31T23:59:59.999999Z' } });
  });

  it('takes the values of an event without schemas as they are', () => {
    const plain = { id: 7, balance: '-1234.56', seen_ms: 1_767_225_600_123 };
    expect(changeEventOfJson({ before: null, after: plain, op: 'c', ts_ms: 1 })).toEqual({ op: 'c', row: plain });
  });

  it('refuses what is not a change event, or a delete without its before image', () => {
    const refusal = (value: unknown) => {
      try {
        changeEventOfJson(value);
      } catch (error) {
        expect(error).toBeInstanceOf(PermanentError);
        return (error as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refusal({ source: {}, databaseName: 'shop', ddl: 'CREATE TABLE t (id INT)' })).toMatch(/schema change topic is not a source/);
    expect(refusal([1])).toMatch(/not a JSON object/);
    expect(refusal({ before: null, after: null, op: 'd' })).toMatch(/binlog_row_image/);
    expect(refusal(withSchema({ before: null, after: { ...row, balance: 'not base64!' }, op: 'c' }))).toMatch(/balance/);
  });
});

describe('rowEncodingOfAvroSchema', () => {
  it('reads connect.name from each field of the row record, leaving decimal logical types to the Avro reader', () => {
    const value = {
      type: 'record',
      name: 'Value',
      fields: [
        { name: 'id', type: 'int' },
        { name: 'seen', type: ['null', { type: 'long', 'connect.name': 'io.debezium.time.MicroTimestamp' }], default: null },
        {
          name: 'balance',
          type: ['null', { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2, 'connect.name': 'org.apache.kafka.connect.data.Decimal' }],
        },
      ],
    };
    const encoding = rowEncodingOfAvroSchema({
      type: 'record',
      name: 'Envelope',
      fields: [
        { name: 'before', type: ['null', value] },
        { name: 'op', type: 'string' },
      ],
    });
    expect(encoding.get('seen')).toEqual({ name: 'io.debezium.time.MicroTimestamp' });
    expect(encoding.get('balance')).toEqual({});
    expect(changeEventOf({ op: 'c', after: { id: 1, seen: 1_000_001n, balance: '1.00' } }, encoding)).toEqual({
      op: 'c',
      row: { id: 1, seen: '1970-01-01T00:00:01.000001Z', balance: '1.00' },
    });
  });
});
