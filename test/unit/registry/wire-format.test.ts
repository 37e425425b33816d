import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../../src/errors.ts';
import { frame, unframe } from '../../../src/registry/wire-format.ts';

describe('Confluent wire format', () => {
  it('frames a payload as magic byte 0, a big-endian schema id, then the payload', () => {
    const framed = frame(0x01020304, Buffer.from([0xaa, 0xbb]));
    expect([...framed]).toEqual([0, 1, 2, 3, 4, 0xaa, 0xbb]);
    expect(unframe(framed)).toEqual({ schemaId: 0x01020304, payload: Buffer.from([0xaa, 0xbb]) });
  });

  it('rejects bytes that are not framed, as a permanent error', () => {
    expect(() => unframe(Buffer.from([1, 0, 0, 0, 1, 2]))).toThrow(PermanentError);
    expect(() => unframe(Buffer.from([0, 0, 0]))).toThrow(/not in the Confluent wire format/);
  });
});
