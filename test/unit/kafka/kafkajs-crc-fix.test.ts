import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { recordBatchCrc } from '../../../src/kafka/kafkajs-crc-fix.ts';
import { kafkajsPatched } from '../../../src/kafka/kafkajs-patch.ts';

const require = createRequire(import.meta.url);

describe('kafkajs record batch CRC fix', () => {
  it('gives the CRC-32C that kafkajs computes in JavaScript', () => {
    const kafkajsCrc = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (buffer: Buffer) => number;
    for (const text of ['', 'a', '123456789', 'x'.repeat(70_000)]) {
      expect(recordBatchCrc(Buffer.from(text))).toBe(kafkajsCrc(Buffer.from(text)) >>> 0);
    }
    // The standard check value of CRC-32C (Castagnoli).
    expect(recordBatchCrc(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('is the CRC kafkajs record batches use', () => {
    expect(kafkajsPatched('protocol/recordBatch/crc32C/index.js')).toBe(true);
  });
});
