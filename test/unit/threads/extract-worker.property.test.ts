import type avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import extract from '../../../workers/extract-worker.ts';
import { deadLetterReasons } from '../../../src/errors.ts';
import { extractedSchema } from '../../../src/pipeline/extracted-schema.ts';
import type { ExtractResult, ExtractTask } from '../../../src/threads/extract-task.ts';
import { frame, unframe } from '../../../src/registry/wire-format.ts';
import { typeOf } from '../../../src/threads/avro-types.ts';
import { packBytes, unpackBytes } from '../../../src/threads/packed-bytes.ts';

/**
 * Extract's decoding over arbitrary input, Avro and JSON: every record
 * either comes out exactly as it went in (plus its source position), or is
 * refused with one of the record's own reasons — never `extract_error`,
 * which is what another exception (a bug, not the record) becomes.
 */
const source = {
  type: 'record',
  name: 'Wide',
  namespace: 'dev.kelt.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'n', type: 'int' },
    { name: 'l', type: 'long' },
    { name: 'f', type: 'float' },
    { name: 'd', type: 'double' },
    { name: 'b', type: 'boolean' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'attrs', type: { type: 'map', values: 'double' } },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'raw', type: 'bytes' },
  ],
} as avro.schema.RecordType;
const readerSchema = JSON.stringify(source);
const extractedText = JSON.stringify(extractedSchema(source));
const reader = typeOf(readerSchema);
const extracted = typeOf(extractedText);
const SCHEMA_ID = 7;
/** A writer whose `n` is a long: Avro cannot resolve it to the reader's int, so each value is checked as it is written. */
const widerWriter = JSON.stringify({ ...source, fields: source.fields.map((field) => (field.name === 'n' ? { name: 'n', type: 'long' } : field)) });
const WIDER_ID = 8;

function task(format: 'avro' | 'json', values: Array<Buffer | null>): ExtractTask {
  return {
    format,
    topic: 'wide.raw',
    keyField: 'id',
    ingestedAt: 1_767_225_600_000,
    readerSchema,
    extractedSchema: extractedText,
    extractedSchemaId: 9,
    writerSchemas: { [SCHEMA_ID]: readerSchema, [WIDER_ID]: widerWriter },
    partition: 2,
    offsets: values.map((_, i) => String(1_000 + i)),
    values: packBytes(values),
    deletes: { when: undefined, tombstones: false },
  };
}

function expectOnlyRecordFaults(result: ExtractResult, count: number): void {
  expect(result.outcomes).toHaveLength(count);
  for (const outcome of result.outcomes) {
    if (outcome.ok) continue;
    expect(deadLetterReasons).toContain(outcome.reason);
    expect(outcome.reason, outcome.error).not.toBe('extract_error');
  }
}

/** Valid records of the source schema, in the values kelt's Avro types read and write. */
const finite = { noNaN: true, noDefaultInfinity: true } as const;
const validRecord = fc.record({
  id: fc.string(),
  n: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  l: fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
  f: fc.float(finite),
  d: fc.double(finite),
  b: fc.boolean(),
  amount: fc.bigInt({ min: -(10n ** 12n) + 1n, max: 10n ** 12n - 1n }).map((unscaled) => {
    const digits = (unscaled < 0n ? -unscaled : unscaled).toString().padStart(3, '0');
    return `${unscaled < 0n ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
  }),
  day: fc
    .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true })
    .map((date) => date.toISOString().slice(0, 10)),
  at: fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }),
  tags: fc.array(fc.string(), { maxLength: 3 }),
  attrs: fc.dictionary(fc.string(), fc.double(finite), { maxKeys: 3 }),
  kind: fc.constantFrom('A', 'B'),
  note: fc.option(fc.string(), { nil: null }),
  raw: fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)),
});

const mutation = fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), cut: fc.boolean() });

describe('extract, for any input', () => {
  it('passes a valid Avro record through exactly, with its source position', () => {
    fc.assert(
      fc.property(validRecord, (record) => {
        const payload = reader.toBuffer(record);
        const result = extract(task('avro', [frame(SCHEMA_ID, payload)]));
        const [outcome] = result.outcomes;
        expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true, key: record.id });
        const out = extracted.fromBuffer(unframe(unpackBytes(result.values)[0]!).payload) as Record<string, unknown>;
        expect(out).toMatchObject({ keltSourceTopic: 'wide.raw', keltSourcePartition: 2, keltSourceOffset: 1_000 });
        expect(reader.toBuffer(out).equals(payload)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses corrupt Avro (flipped or cut bytes, a wider writer’s values, any bytes at all) with the record’s reason', () => {
    fc.assert(
      fc.property(
        validRecord,
        mutation,
        fc.uint8Array({ maxLength: 120 }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        (record, { at, byte, cut }, noise, n) => {
          const payload = Buffer.from(reader.toBuffer(record));
          const spot = at % payload.length;
          const corrupt = cut ? payload.subarray(0, spot) : Buffer.from(payload.map((b, i) => (i === spot ? byte : b)));
          const wider = typeOf(widerWriter).toBuffer({ ...record, n: Number(n) === Number(n) && Number.isSafeInteger(Number(n)) ? Number(n) : 0 });
          const values = [frame(SCHEMA_ID, corrupt), frame(SCHEMA_ID, noise), Buffer.from(noise), frame(WIDER_ID, wider), frame(12_345, noise)];
          expectOnlyRecordFaults(extract(task('avro', values)), values.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses JSON that does not fit, or is not JSON, with the record’s reason', () => {
    const edge = fc.constantFrom<unknown>(2 ** 53 + 1, 2 ** 31, -(2 ** 31) - 1, 3.5, '1e400', '', null, [], {}, 'A', 'C', '12.345', '2026-02-30');
    const field = fc.oneof(edge, fc.anything({ maxDepth: 2 }));
    const fields = fc.dictionary(fc.constantFrom(...source.fields.map((f) => f.name), '__proto__', 'constructor'), field);
    fc.assert(
      fc.property(fields, fc.string(), validRecord, (overrides, text, record) => {
        const json = JSON.parse(reader.toString(record)) as Record<string, unknown>;
        const values = [Buffer.from(JSON.stringify({ ...json, ...overrides }) ?? 'null'), Buffer.from(text), Buffer.from(`{"id":"x","n":1e400}`)];
        expectOnlyRecordFaults(extract(task('json', values)), values.length);
      }),
      { numRuns: 300 },
    );
  });

  it('lands any bytes in a string field exactly or dead-letters them: never U+FFFD (Avro)', () => {
    fc.assert(
      fc.property(validRecord, fc.uint8Array({ maxLength: 24 }), (record, bytes) => {
        // The record with `note` replaced by the raw bytes: Avro's string is its length (zigzag varint) and its bytes.
        const prefix = reader.toBuffer({ ...record, note: null, raw: Buffer.alloc(0) });
        const noteAt = prefix.length - 2; // `note` (union index 0: null) then `raw` (length 0) end the record
        const note = Buffer.concat([Buffer.from([2]), Buffer.from([bytes.length * 2]), Buffer.from(bytes)]);
        const payload = Buffer.concat([prefix.subarray(0, noteAt), note, Buffer.from([0])]);
        const [outcome] = extract(task('avro', [frame(SCHEMA_ID, payload)])).outcomes;
        const valid = Buffer.from(Buffer.from(bytes).toString('utf8'), 'utf8').equals(Buffer.from(bytes));
        if (outcome!.ok) {
          expect(valid).toBe(true);
        } else {
          expect(valid).toBe(false);
          expect(outcome!.reason).toBe('schema_violation');
          expect(outcome!.error).toMatch(/not UTF-8/);
        }
      }),
      { numRuns: 500 },
    );
  });

  /** A narrow JSON source: a key, a long, a decimal and a double. */
  const narrow = JSON.stringify({
    type: 'record',
    name: 'Narrow',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'l', type: 'long' },
      { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 30, scale: 4 } },
      { name: 'd', type: 'double' },
    ],
  });
  const narrowExtracted = JSON.stringify(extractedSchema(JSON.parse(narrow) as avro.schema.RecordType));
  const narrowTask = (values: Buffer[]): ExtractTask => ({ ...task('json', values), readerSchema: narrow, extractedSchema: narrowExtracted });
  const narrowOut = (result: ExtractResult) =>
    typeOf(narrowExtracted).fromBuffer(unframe(unpackBytes(result.values)[0]!).payload) as Record<string, unknown>;

  it('lands any JSON string exactly or dead-letters it by name: lone surrogates and non-UTF-8 bytes refused', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 12 }), fc.uint8Array({ minLength: 1, maxLength: 8 }), (text, bytes) => {
        const escaped = Buffer.from(JSON.stringify({ id: text, l: 1, amount: '1.5', d: 0.5 }));
        const raw = Buffer.concat([Buffer.from('{"id":"'), Buffer.from(bytes), Buffer.from('","l":1,"amount":"1.5","d":0.5}')]);
        const result = extract(narrowTask([escaped, raw]));
        const [first, second] = result.outcomes;
        if (text.isWellFormed()) {
          expect(first, JSON.stringify(first)).toMatchObject({ ok: true, key: text });
          expect(narrowOut(result).id).toBe(text);
        } else {
          expect(first).toMatchObject({ ok: false, reason: 'schema_violation' });
          expect((first as { error: string }).error).toMatch(/^does not match the schema: id: /);
        }
        if (!Buffer.from(Buffer.from(bytes).toString('utf8')).equals(Buffer.from(bytes)))
          expect(second).toMatchObject({ ok: false, reason: 'schema_violation' });
      }),
      { numRuns: 500 },
    );
  });

  it('reads JSON numbers from their digits: longs over the whole 64-bit range, decimals digit for digit', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.bigInt({ min: -(10n ** 30n) + 1n, max: 10n ** 30n - 1n }),
        (long, unscaled) => {
          const digits = (unscaled < 0n ? -unscaled : unscaled).toString().padStart(5, '0');
          const decimal = `${unscaled < 0n ? '-' : ''}${digits.slice(0, -4)}.${digits.slice(-4)}`;
          const text = `{"id":"k","l":${long},"amount":${decimal},"d":12345678901234567.8901}`;
          const result = extract(narrowTask([Buffer.from(text)]));
          expect(result.outcomes[0], JSON.stringify(result.outcomes[0])).toMatchObject({ ok: true });
          const out = narrowOut(result);
          expect(BigInt(out.l as number | bigint)).toBe(long);
          expect(out.amount).toBe(decimal);
          expect(out.d).toBe(Number('12345678901234567.8901'));
        },
      ),
      { numRuns: 300 },
    );
    const refused = (json: string) => extract(narrowTask([Buffer.from(json)])).outcomes[0];
    expect(refused('{"id":"x","l":1,"amount":12345678901.23456,"d":0}')).toMatchObject({ ok: false, reason: 'schema_violation' });
    expect(refused('{"id":"x","l":9223372036854775808,"amount":1,"d":0}')).toMatchObject({ ok: false, reason: 'schema_violation' });
    expect(refused('{"id":"x","l":1.5,"amount":1,"d":0}')).toMatchObject({ ok: false, reason: 'schema_violation' });
  });
});
