import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../../../src/kafka/kafkajs-fixes.ts';
import type { RecordDecoder } from '../../../src/kafka/kafkajs-record-decoding-fix.ts';
import { kafkajsPatched } from '../../../src/kafka/kafkajs-patch.ts';
import { encodeProduceRequest, type ProduceMessage } from '../../../src/kafka/produce-request-encoder.ts';

const require = createRequire(import.meta.url);
const recordDecoder = require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js') as RecordDecoder;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => Parameters<RecordDecoder>[0];

const bytes = fc.uint8Array({ maxLength: 100 }).map((array) => Buffer.from(array));
/** Header names, but not those every object inherits (kafkajs turns `constructor` or `__proto__` into an array that starts with the inherited value). */
const headerName = fc.string({ minLength: 1, maxLength: 8 }).filter((name) => !(name in Object.prototype));

const message: fc.Arbitrary<ProduceMessage> = fc.record({
  key: fc.option(bytes, { nil: null }),
  value: fc.option(bytes, { nil: null }),
  timestamp: fc.oneof(fc.integer({ min: 0, max: 9_999_999_999_999 }).map(String), fc.constant('-1')),
  headers: fc.dictionary(headerName, fc.oneof(bytes, fc.array(bytes, { minLength: 1, maxLength: 3 })), { maxKeys: 4 }),
});

/** The records of one encoded batch, each as a Decoder over its bytes (what kafkajs's batch decoder hands the record decoder). */
function recordReaders(messages: ProduceMessage[]): Array<() => Parameters<RecordDecoder>[0]> {
  const buffer = encodeProduceRequest({ acks: -1, timeout: 1, topicData: [{ topic: 't', partitions: [{ partition: 0, messages }] }] });
  const records = new Decoder(buffer.subarray(2 + 2 + 4 + 4 + 3 + 4 + 4 + 4 + 61));
  return messages.map(() => {
    const length = records.readVarInt();
    const start = records.offset;
    records.offset += length;
    return () => new Decoder(records.buffer.subarray(start, start + length));
  });
}

const contexts = fc.record({
  firstOffset: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 40n }), fc.bigInt({ min: 2n ** 53n - 1000n, max: 2n ** 63n - 2n ** 32n })).map(String),
  firstTimestamp: fc.oneof(fc.integer({ min: -1, max: 9_999_999_999_999 }).map(String), fc.bigInt({ min: 2n ** 60n, max: 2n ** 62n }).map(String)),
  magicByte: fc.constant(2),
  isControlBatch: fc.boolean(),
  timestampType: fc.constantFrom(0, 1),
  maxTimestamp: fc.integer({ min: 0, max: 9_999_999_999_999 }).map(String),
});

describe('kafkajs record decoding fix', () => {
  it('reads every record as kafkajs’s own decoder does: offsets and timestamps exact past 2^53, headers of every shape', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 20 }), contexts, (messages, context) => {
        for (const reader of recordReaders(messages)) {
          expect(recordDecoder(reader(), context)).toStrictEqual(recordDecoder.kafkajs!(reader(), context));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives a header named like an inherited property its own value, and __proto__ as an own property', () => {
    const headers = { constructor: [Buffer.from('a'), Buffer.from('b')] };
    Object.defineProperty(headers, '__proto__', { value: Buffer.from('c'), enumerable: true });
    const [reader] = recordReaders([{ key: null, value: null, timestamp: '5', headers }]);
    const record = recordDecoder(reader!(), { firstOffset: '7', firstTimestamp: '5' });
    expect(Object.entries(record.headers)).toEqual([
      ['constructor', [Buffer.from('a'), Buffer.from('b')]],
      ['__proto__', Buffer.from('c')],
    ]);
    expect(Object.getPrototypeOf(record.headers)).toBe(Object.prototype);
    expect(record.offset).toBe('7');
  });

  it('is the record decoder kafkajs uses', () => {
    expect(kafkajsPatched('protocol/recordBatch/record/v0/decoder.js')).toBe(true);
  });
});
