import { describe, expect, it } from 'vitest';
import { ProcessingSlots } from '../../../../src/stages/runner/processing-slots.ts';

describe('ProcessingSlots', () => {
  it('hands out at most its size of slots, the next to the first that asked, as each is released', async () => {
    const slots = new ProcessingSlots(2);
    const got: string[] = [];
    const ask = (name: string) => slots.acquire().then((release) => (got.push(name), release));
    const [a, b] = await Promise.all([ask('a'), ask('b')]);
    const c = ask('c');
    const d = ask('d');
    await new Promise((resolve) => setImmediate(resolve));
    expect(got).toEqual(['a', 'b']);
    b();
    (await c)();
    expect(got).toEqual(['a', 'b', 'c']);
    a();
    (await d)();
    expect(got).toEqual(['a', 'b', 'c', 'd']);
    const [e, f] = await Promise.all([ask('e'), ask('f')]);
    expect(got).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    e();
    f();
  });
});
