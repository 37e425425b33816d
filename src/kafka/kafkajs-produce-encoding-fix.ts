import { createRequire } from 'node:module';
import { patchKafkajsModule } from './kafkajs-patch.ts';
import { encodeProduceRequest, type ProduceRequestArgs } from './produce-request-encoder.ts';

const require = createRequire(import.meta.url);
const { Types: Compression } = require('kafkajs/src/protocol/message/compression/index.js') as { Types: { None: number } };
const { Produce: apiKey } = require('kafkajs/src/protocol/requests/apiKeys.js') as { Produce: number };

export type ProduceRequest = ((args: ProduceRequestArgs & { compression?: number }) => {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<{ buffer: Buffer }>;
}) & {
  /** kafkajs's own request, kept for compressed batches and for the byte-for-byte comparison of the tests. */
  kafkajs?: ProduceRequest;
};

/**
 * kafkajs's Produce request (v3, which v4–v7 extend) with kelt's encoder
 * (produce-request-encoder.ts) for uncompressed batches: one buffer per
 * request instead of an Encoder and a copy per record, header and batch.
 * kafkajs's request framing takes what `encode` returns as an Encoder,
 * reading only its `buf` (to check it is one) and its `buffer`.
 */
patchKafkajsModule<ProduceRequest>('protocol/requests/produce/v3/request.js', 'protocol/requests/produce/v4/request.js', (kafkajs) => {
  const request: ProduceRequest = (args) => {
    if ((args.compression ?? Compression.None) !== Compression.None) return kafkajs(args);
    return {
      apiKey,
      apiVersion: 3,
      apiName: 'Produce',
      expectResponse: () => args.acks !== 0,
      encode: async () => {
        const buffer = encodeProduceRequest(args);
        return { buf: buffer, buffer, offset: buffer.length, size: () => buffer.length };
      },
    };
  };
  return Object.assign(request, { kafkajs });
});
