import type avro from 'avsc';
import { describe, expect, it } from 'vitest';
import extract from '../../../workers/extract-worker.ts';
import { extractedSchema } from '../../../src/pipeline/extracted-schema.ts';
import { unframe } from '../../../src/registry/wire-format.ts';
import { typeOf } from '../../../src/threads/avro-types.ts';
import { packBytes, unpackBytes } from '../../../src/threads/packed-bytes.ts';
import type { ExtractTask } from '../../../src/threads/extract-task.ts';
import { connectDecimal, connectTemporal } from '../../support/debezium/avro-types.ts';

const source = {
  type: 'record',
  name: 'Customer',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'balance', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'seen', type: ['null', { type: 'long', logicalType: 'timestamp-micros' }], default: null },
  ],
} as avro.schema.RecordType;
const extractedText = JSON.stringify(extractedSchema(source));

const fields = [
  { type: 'int32', optional: false, field: 'id' },
  { type: 'bytes', optional: false, name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2' }, field: 'balance' },
  { type: 'int64', optional: true, name: 'io.debezium.time.MicroTimestamp', field: 'seen' },
];
const event = (payload: object) =>
  Buffer.from(
    JSON.stringify({
      schema: {
        type: 'struct',
        fields: [
          { type: 'struct', optional: true, field: 'before', fields },
          { type: 'struct', optional: true, field: 'after', fields },
        ],
      },
      payload,
    }),
  );
/** A chunk of a Debezium pipeline's raw partition, as extract hands it to a worker. */
const debeziumTask = (values: Array<Buffer | null>, writerSchemas: Record<number, string> = {}): ExtractTask => ({
  format: 'debezium',
  topic: 'src.shop.customers',
  keyField: 'id',
  ingestedAt: 1,
  readerSchema: JSON.stringify(source),
  extractedSchema: extractedText,
  extractedSchemaId: 9,
  writerSchemas,
  partition: 0,
  offsets: values.map((_, i) => String(i)),
  values: packBytes(values),
  deletes: { when: undefined, tombstones: false },
});
const row = { id: 5, balance: Buffer.from([0x30, 0x39]).toString('base64'), seen: 1_767_225_600_123_456 };

describe('extract worker, Debezium change events', () => {
  it('upserts the row after, deletes the row before, absorbs tombstones and truncates, refuses what is not a change event', () => {
    const values = [
      event({ before: null, after: row, op: 'c' }),
      event({ before: row, after: null, op: 'd' }),
      null,
      event({ before: null, after: null, op: 't' }),
      Buffer.from(JSON.stringify({ databaseName: 'shop', ddl: 'DROP TABLE x' })),
      Buffer.from('{"op":'),
      event({ before: null, after: { ...row, id: null }, op: 'u' }),
    ];
    const result = extract(debeziumTask(values));
    expect(result.outcomes).toEqual([
      { ok: true, key: '5', deletes: false },
      { ok: true, key: '5', deletes: true },
      { ok: true, absorbed: true },
      { ok: true, absorbed: true },
      { ok: false, reason: 'schema_violation', error: expect.stringMatching(/schema change topic is not a source/) },
      { ok: false, reason: 'undecodable', error: expect.stringMatching(/not JSON/) },
      { ok: false, reason: 'schema_violation', error: expect.stringMatching(/id/) },
    ]);
    const out = unpackBytes(result.values);
    expect(typeOf(extractedText).fromBuffer(unframe(out[0]!).payload)).toMatchObject({ id: 5, balance: '123.45', seen: 1_767_225_600_123_456 });
    expect(out.slice(2, 4)).toEqual([null, null]);
  });
});

/** An envelope schema as Kafka Connect's Avro converter registers it: connect.* attributes on each type, `after` naming `before`'s record. */
const avroEnvelope = {
  type: 'record',
  name: 'Envelope',
  namespace: 'shop.shop.customers',
  fields: [
    {
      name: 'before',
      type: [
        'null',
        {
          type: 'record',
          name: 'Value',
          fields: [
            { name: 'id', type: 'int' },
            { name: 'balance', type: connectDecimal(12, 2) },
            { name: 'seen', type: connectTemporal('long', 'io.debezium.time.MicroTimestamp'), default: null },
          ],
        },
      ],
      default: null,
    },
    { name: 'after', type: ['null', 'Value'], default: null },
    { name: 'op', type: 'string' },
    { name: 'ts_ms', type: ['null', 'long'], default: null },
  ],
};

describe('extract worker, Debezium change events in Avro (the registry’s wire format)', () => {
  it('decodes the envelope with its writer schema and converts the row by connect.name', () => {
    const writer = JSON.stringify(avroEnvelope);
    const type = typeOf(writer);
    const framed = (envelope: object) => {
      const payload = type.toBuffer(envelope);
      return Buffer.concat([Buffer.from([0, 0, 0, 0, 42]), payload]);
    };
    const after = { id: 5, balance: '123.45', seen: 1_767_225_600_123_456 };
    const values = [
      framed({ before: null, after, op: 'c', ts_ms: 1 }),
      framed({ before: after, after: null, op: 'd', ts_ms: 2 }),
      Buffer.from([0, 0, 0, 0, 43, 1]),
    ];
    const result = extract(debeziumTask(values, { 42: writer }));
    expect(result.outcomes).toEqual([
      { ok: true, key: '5', deletes: false },
      { ok: true, key: '5', deletes: true },
      { ok: false, reason: 'unknown_schema', error: 'unknown schema id 43' },
    ]);
    expect(typeOf(extractedText).fromBuffer(unframe(unpackBytes(result.values)[0]!).payload)).toMatchObject(after);
  });
});
