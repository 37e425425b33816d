import type avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroType } from '../../../src/avro/logical-types.ts';
import { checkEvent } from '../../../src/collect/event-check.ts';
import { parseExactJson } from '../../../src/values/exact-json.ts';

const type = avroType({
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
}) as avro.types.RecordType;

describe('checkEvent', () => {
  it('takes exact decimal text and ISO-8601 times, and gives the key', () => {
    expect(checkEvent(type, 'id', { id: 'o-1', amount: '12.34', at: '2026-12-02T10:00:00.123Z', note: null })).toMatchObject({
      ok: true,
      key: 'o-1',
    });
  });

  it('refuses naming the field: a wrong type, a missing field, a decimal that does not fit', () => {
    expect(checkEvent(type, 'id', { id: 'o-1', amount: '12.34', at: 'yesterday', note: null })).toMatchObject({ ok: false, field: 'at' });
    expect(checkEvent(type, 'id', { amount: '1.00', at: 0, note: null })).toMatchObject({
      ok: false,
      field: 'id',
      error: expect.stringMatching(/missing/),
    });
    expect(checkEvent(type, 'id', { id: 'o', amount: '1.234', at: 0, note: null })).toMatchObject({ ok: false, field: 'amount' });
  });

  it('refuses a field the schema does not declare rather than drop it', () => {
    expect(checkEvent(type, 'id', { id: 'o', amount: '1.00', at: 0, Note: 'x' })).toEqual({
      ok: false,
      field: 'Note',
      error: 'Note is not a field of Order',
    });
  });

  it('refuses what is not an object', () => {
    for (const event of [null, 3, 'x', [{ id: 'o' }]]) expect(checkEvent(type, 'id', event)).toMatchObject({ ok: false, field: '(event)' });
  });

  it('reads numbers from their digits: a decimal digit for digit, a long past 2^53 exactly, too many places refused by name', () => {
    const wide = avroType({
      type: 'record',
      name: 'Wide',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 30, scale: 4 } },
      ],
    }) as avro.types.RecordType;
    const parsed = parseExactJson('{"id":9223372036854775807,"amount":12345678901234567.8901}');
    const verdict = checkEvent(wide, 'id', parsed);
    expect(verdict).toMatchObject({ ok: true, key: '9223372036854775807', event: { id: 9223372036854775807n, amount: '12345678901234567.8901' } });
    expect(Buffer.from(wide.toBuffer((verdict as { event: object }).event)).length).toBeGreaterThan(0);
    expect(checkEvent(wide, 'id', parseExactJson('{"id":1,"amount":1.23456}'))).toMatchObject({ ok: false, field: 'amount' });
  });
});
