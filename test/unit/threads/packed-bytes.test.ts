import { describe, expect, it } from 'vitest';
import { packBytes, transferablesOf, unpackBytes } from '../../../src/threads/packed-bytes.ts';

describe('packBytes', () => {
  it('round-trips values, nulls and empty values in order', () => {
    const values = [Buffer.from('alpha'), null, Buffer.alloc(0), Buffer.from([0, 255, 7])];
    expect(unpackBytes(packBytes(values))).toEqual(values);
  });

  it("copies only the values' own bytes, not the buffer they view", () => {
    const fetched = Buffer.alloc(1 << 20, 1);
    const values = [fetched.subarray(10, 20), fetched.subarray(500, 510)];
    const packed = packBytes(values);
    expect(packed.bytes.buffer.byteLength).toBe(20);
    expect(transferablesOf(packed).map((buffer) => buffer.byteLength)).toEqual([20, 8]);
  });

  it('survives a transfer to another thread', async () => {
    const packed = packBytes([Buffer.from('one'), null, Buffer.from('three')]);
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<typeof packed>((resolve) => port2.once('message', resolve));
    port1.postMessage(packed, transferablesOf(packed));
    expect(packed.bytes.byteLength).toBe(0);
    expect(unpackBytes(await received).map((value) => value?.toString() ?? null)).toEqual(['one', null, 'three']);
    port1.close();
  });
});
