import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../../../src/kafka/kafkajs-fixes.ts';
import type { ProduceRequest } from '../../../src/kafka/kafkajs-produce-encoding-fix.ts';
import { kafkajsPatched } from '../../../src/kafka/kafkajs-patch.ts';
import { encodeProduceRequest, type ProduceMessage, type ProduceRequestArgs } from '../../../src/kafka/produce-request-encoder.ts';

const require = createRequire(import.meta.url);
const produceRequest = require('kafkajs/src/protocol/requests/produce/v3/request.js') as ProduceRequest;
const kafkajsRequest = produceRequest.kafkajs!;
const Long = require('kafkajs/src/utils/long') as { fromValue(value: string | number): { toString(): string } };
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => KafkajsDecoder;
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: KafkajsDecoder) => Promise<DecodedBatch>;

interface KafkajsDecoder {
  readInt16(): number;
  readInt32(): number;
  readString(): string;
}

interface DecodedBatch {
  firstTimestamp: string;
  maxTimestamp: string;
  producerId: string;
  inTransaction: boolean;
  records: Array<{ key: Buffer | null; value: Buffer | null; timestamp: string; offset: string; headers: Record<string, Buffer | Buffer[] | null> }>;
}

const bytesOrText = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

/** Records as kelt's stages send them: a timestamp each (13 digits, the form every stage writes), headers of every shape. */
const message: fc.Arbitrary<ProduceMessage> = fc.record({
  key: fc.option(bytesOrText, { nil: null }),
  value: fc.option(bytesOrText, { nil: null }),
  timestamp: fc.integer({ min: 1_000_000_000_000, max: 9_999_999_999_999 }).map(String),
  headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.oneof(bytesOrText, fc.array(bytesOrText, { minLength: 1, maxLength: 3 })), {
    maxKeys: 4,
  }),
});

const requestArgs: fc.Arbitrary<ProduceRequestArgs> = fc.record({
  acks: fc.constantFrom(-1, 1),
  timeout: fc.integer({ min: 1, max: 60_000 }),
  transactionalId: fc.option(fc.string({ minLength: 1, maxLength: 30 }), { nil: null }),
  producerId: fc.oneof(
    fc.constant(-1),
    fc.bigInt({ min: 0n, max: 2n ** 62n }).map((id) => Long.fromValue(id.toString())),
  ),
  producerEpoch: fc.integer({ min: 0, max: 32_767 }),
  topicData: fc.array(
    fc.record({
      topic: fc.string({ minLength: 1, maxLength: 20 }),
      partitions: fc.array(
        fc.record({ partition: fc.nat(100), firstSequence: fc.nat(2 ** 31 - 1), messages: fc.array(message, { minLength: 1, maxLength: 30 }) }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
    { minLength: 1, maxLength: 2 },
  ),
});

describe('the Produce request encoder', () => {
  it('writes the bytes kafkajs writes, for any records, headers, producer and transaction', async () => {
    await fc.assert(
      fc.asyncProperty(requestArgs, async (args) => {
        const ours = (await produceRequest(args).encode()).buffer;
        const theirs = (await kafkajsRequest(args).encode()).buffer;
        expect(ours.equals(theirs)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('gives records without a timestamp the time of the send, and null header values, as kafkajs’s decoder reads them', async () => {
    const before = Date.now();
    const buffer = encodeProduceRequest({
      acks: -1,
      timeout: 30_000,
      transactionalId: 'kelt.p.extract.3',
      producerId: 7,
      producerEpoch: 2,
      topicData: [
        {
          topic: 'p.extracted',
          partitions: [
            {
              partition: 3,
              messages: [
                { key: 'a', value: Buffer.from([0, 255]), timestamp: '1700000000500', headers: { 'kelt.op': null, tags: ['x', Buffer.from([1])] } },
                { key: null, value: null, timestamp: null },
                { key: 'c', value: 'ü', timestamp: '900' },
              ],
            },
          ],
        },
      ],
    });
    const decoder = new Decoder(buffer);
    expect(decoder.readString()).toBe('kelt.p.extract.3');
    expect([decoder.readInt16(), decoder.readInt32(), decoder.readInt32()]).toEqual([-1, 30_000, 1]);
    expect([decoder.readString(), decoder.readInt32(), decoder.readInt32(), decoder.readInt32()]).toEqual(['p.extracted', 1, 3, buffer.length - 53]);
    const batch = await decodeRecordBatch(decoder);
    expect([batch.firstTimestamp, batch.producerId, batch.inTransaction]).toEqual(['900', '7', true]);
    expect(Number(batch.maxTimestamp)).toBeGreaterThanOrEqual(before);
    expect(batch.records.map(({ key, value, offset }) => [key?.toString('latin1') ?? null, value?.toString('latin1') ?? null, offset])).toEqual([
      ['a', '\u0000\u00ff', '0'],
      [null, null, '1'],
      ['c', Buffer.from('ü').toString('latin1'), '2'],
    ]);
    expect(batch.records[0]!.timestamp).toBe('1700000000500');
    expect(Number(batch.records[1]!.timestamp)).toBe(Number(batch.maxTimestamp));
    expect(batch.records[0]!.headers).toEqual({ 'kelt.op': null, tags: [Buffer.from('x'), Buffer.from([1])] });
  });

  it('is the request kafkajs sends', () => {
    expect(kafkajsPatched('protocol/requests/produce/v3/request.js')).toBe(true);
  });
});
