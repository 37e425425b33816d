import { describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '../../../src/kafka/records.ts';
import { originHeadersOf, originOf, skipRepeats } from '../../../src/stages/record-origin.ts';

const loaded = (offset: number, origin?: [number, number]): ConsumedRecord => ({
  key: null,
  value: Buffer.from('x'),
  offset: String(offset),
  timestamp: '0',
  ...(origin === undefined ? {} : { headers: originHeadersOf(origin[0], String(origin[1])) }),
});
const offsets = (records: readonly ConsumedRecord[]) => records.map((record) => record.offset);

describe('record origins', () => {
  it('reads the origin load wrote, as text or as the bytes a consumer gets', () => {
    expect(originOf(loaded(0, [5, 1234]))).toEqual({ partition: 5, offset: 1234n });
    const consumed = { ...loaded(0), headers: { 'kelt.origin.partition': Buffer.from('5'), 'kelt.origin.offset': Buffer.from('9007199254740993') } };
    expect(originOf(consumed)).toEqual({ partition: 5, offset: 9007199254740993n });
  });

  it('takes a record without origin headers, or with ones that are not numbers, for one without an origin', () => {
    expect(originOf(loaded(0))).toBeUndefined();
    expect(originOf({ ...loaded(0), headers: { 'kelt.origin.partition': '1', 'kelt.origin.offset': '-3' } })).toBeUndefined();
    expect(originOf({ ...loaded(0), headers: { 'kelt.origin.partition': 'x', 'kelt.origin.offset': '3' } })).toBeUndefined();
  });

  it('skips a batch forwarded twice: the second copy has origins below what was applied', () => {
    const first = [loaded(0, [5, 100]), loaded(1, [5, 101]), loaded(2, [5, 102])];
    const once = skipRepeats(first, new Map());
    expect(offsets(once.fresh)).toEqual(['0', '1', '2']);
    expect(once.applied).toEqual(new Map([[5, 103n]]));

    const again = [loaded(3, [5, 100]), loaded(4, [5, 101]), loaded(5, [5, 102]), loaded(6, [5, 103])];
    const twice = skipRepeats(again, once.applied);
    expect(offsets(twice.repeats)).toEqual(['3', '4', '5']);
    expect(offsets(twice.fresh)).toEqual(['6']);
    expect(twice.applied).toEqual(new Map([[5, 104n]]));
  });

  it('skips a repeat within one batch, and keeps each origin partition apart', () => {
    const batch = [loaded(0, [1, 10]), loaded(1, [2, 10]), loaded(2, [1, 11]), loaded(3, [1, 10]), loaded(4, [2, 11])];
    const { fresh, repeats, applied } = skipRepeats(batch, new Map([[2, 10n]]));
    expect(offsets(fresh)).toEqual(['0', '1', '2', '4']);
    expect(offsets(repeats)).toEqual(['3']);
    expect(applied).toEqual(
      new Map([
        [1, 12n],
        [2, 12n],
      ]),
    );
  });

  it('applies records without an origin, and leaves the watermarks it was given as they were', () => {
    const given = new Map([[5, 50n]]);
    const { fresh, repeats } = skipRepeats([loaded(0), loaded(1, [5, 49]), loaded(2)], given);
    expect(offsets(fresh)).toEqual(['0', '2']);
    expect(offsets(repeats)).toEqual(['1']);
    expect(given).toEqual(new Map([[5, 50n]]));
  });
});
