import type avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroType } from '../../../src/avro/logical-types.ts';
import { checkEvent } from '../../../src/collect/event-check.ts';

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
    expect(checkEvent(type, 'id', { id: 'o-1', amount: '12.34', at: '2026-12-02T10:00:00.123Z', note: null })).toEqual({ ok: true, key: 'o-1' });
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
});
