import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroType } from '../../../src/avro/logical-types.ts';

/** avsc's array and map readers as kelt patches them (src/avro/avsc-collection-fixes.ts). */
describe('Avro arrays and maps, read', () => {
  // Seven bytes: a block count of 2^31 (zigzag varint), then one short item.
  const claims2to31 = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f, 0x02, 0x61]);

  it.each([
    { type: 'array', items: 'string' },
    { type: 'array', items: 'null' },
    { type: 'map', values: 'double' },
    {
      type: 'record',
      name: 'R',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'tags', type: { type: 'array', items: 'long' } },
      ],
    },
  ] as const)('refuses a count of 2^31 items in seven bytes at once, as truncated (%j)', (schema) => {
    const type = avroType(schema as avro.Schema);
    const bytes = schema.type === 'record' ? Buffer.concat([Buffer.from([0x02, 0x61]), claims2to31]) : claims2to31;
    expect(() => type.fromBuffer(bytes)).toThrow(/truncated buffer/);
  });

  it('skips such an array as truncated too, when a reader has no field for it', () => {
    const writer = avroType({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'tags', type: { type: 'array', items: 'long' } },
      ],
    });
    const reader = avroType({ type: 'record', name: 'R', fields: [{ name: 'id', type: 'string' }] });
    expect(() => reader.fromBuffer(Buffer.concat([Buffer.from([0x02, 0x61]), claims2to31]), reader.createResolver(writer))).toThrow(
      /truncated buffer/,
    );
  });

  it('reads blocks with negative counts (followed by their size), as the Java writer may write them', () => {
    const longs = avroType({ type: 'array', items: 'long' });
    // Block of -2 items (zigzag 3), 2 bytes; items 1 and 2 (zigzag 2, 4); then a block of 1 item: 3 (zigzag 6); end.
    expect(longs.fromBuffer(Buffer.from([0x03, 0x04, 0x02, 0x04, 0x02, 0x06, 0x00]))).toEqual([1, 2, 3]);
    expect(longs.fromBuffer(longs.toBuffer([]))).toEqual([]);
    expect(longs.fromBuffer(longs.toBuffer(Array.from({ length: 70_000 }, (_, i) => i)))).toHaveLength(70_000);
    const nulls = avroType({ type: 'array', items: 'null' });
    expect(nulls.fromBuffer(nulls.toBuffer(Array(1_000).fill(null)))).toHaveLength(1_000);
  });

  it('keeps a map entry keyed __proto__ as an entry, never as the map’s prototype', () => {
    const map = avroType({ type: 'map', values: { type: 'record', name: 'V', fields: [{ name: 'x', type: 'int' }] } });
    const value = JSON.parse('{"__proto__": {"x": 1}, "a": {"x": 2}}') as Record<string, unknown>;
    const read = map.fromBuffer(map.toBuffer(value)) as Record<string, { x: number }>;
    expect(Object.keys(read)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(read, '__proto__')?.value).toEqual({ x: 1 });
    const copied = map.clone(value) as Record<string, unknown>;
    expect(Object.keys(copied)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
  });
});
