import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { avroType } from '../../../src/avro/logical-types.ts';
import { PermanentError } from '../../../src/errors.ts';
import { SchemaRegistryClient } from '../../../src/registry/client.ts';
import { frame } from '../../../src/registry/wire-format.ts';

/**
 * The decode load (and `kelt dlq show`) runs on each record, over arbitrary
 * bytes: a record either decodes as the reader or is refused with kelt's
 * dead-letter error — never another exception, which would fail the whole
 * batch instead of its record. The registry here is a fake HTTP server that
 * answers the one request the client makes for an id (GET /schemas/ids/N).
 */
const writer = {
  type: 'record',
  name: 'Row',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'n', type: 'long' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'attrs', type: { type: 'map', values: 'double' } },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};
const reader = avroType({ ...writer, fields: [...writer.fields, { name: 'added', type: 'int', default: 7 }] } as never);
const writerType = avroType(writer as never);

describe('decoding a framed record, for any bytes', () => {
  let server: Server;
  let registry: SchemaRegistryClient;
  beforeAll(async () => {
    server = createServer((request, response) => {
      const id = /^\/schemas\/ids\/(\d+)$/.exec(request.url ?? '')?.[1];
      const body = id === '1' ? { schema: JSON.stringify(writer) } : id === '2' ? { schemaType: 'JSON', schema: '{}' } : undefined;
      response.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? { error_code: 40403 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    registry = new SchemaRegistryClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => new Promise((resolve) => server.close(resolve)));

  const record = fc.record({
    id: fc.string(),
    n: fc.maxSafeInteger(),
    tags: fc.array(fc.string(), { maxLength: 3 }),
    attrs: fc.dictionary(fc.string(), fc.double({ noNaN: true }), { maxKeys: 3 }),
    amount: fc
      .integer({ min: -99_999_999, max: 99_999_999 })
      .map((cents) => `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`),
    note: fc.option(fc.string(), { nil: null }),
  });

  it('reads what the writer wrote exactly, as the reader (defaults for its new fields)', async () => {
    await fc.assert(
      fc.asyncProperty(record, async (value) => {
        const read = (await registry.decodeAvroAs(frame(1, writerType.toBuffer(value)), reader)) as Record<string, unknown>;
        expect(read).toEqual({ ...value, added: 7 });
      }),
      { numRuns: 200 },
    );
  });

  it('refuses anything else with a dead-letter error: cut, flipped, noise, unknown or non-Avro ids, no frame', async () => {
    await fc.assert(
      fc.asyncProperty(record, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 64 }), async (value, at, byte, noise) => {
        const payload = Buffer.from(writerType.toBuffer(value));
        const spot = at % payload.length;
        const inputs = [
          frame(1, payload.subarray(0, spot)),
          frame(1, Buffer.from(payload.map((b, i) => (i === spot ? byte : b)))),
          frame(1, noise),
          frame(2, payload),
          frame(3, payload),
          Buffer.from(noise),
        ];
        for (const input of inputs) {
          await registry.decodeAvroAs(input, reader).then(
            () => undefined,
            (error: unknown) => expect(error, String(error)).toBeInstanceOf(PermanentError),
          );
        }
      }),
      { numRuns: 200 },
    );
  });
});
