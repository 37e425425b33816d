import { describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '../../../src/kafka/records.ts';
import { originHeadersOf, originOf, skipRepeats } from '../../../src/records/record-origin.ts';

const TOPIC = '0123456789abcdef0123456789abcdef';
const RECREATED = 'fedcba9876543210fedcba9876543210';

const loaded = (offset: number, origin?: [number, number], topic: string | undefined = TOPIC): ConsumedRecord => ({
  key: null,
  value: Buffer.from('x'),
  offset: String(offset),
  timestamp: '0',
  ...(origin === undefined ? {} : { headers: originHeadersOf(origin[0], String(origin[1]), topic) }),
});
const offsets = (records: readonly ConsumedRecord[]) => records.map((record) => record.offset);
const key = (partition: number, topic = TOPIC) => `${topic}/${partition}`;

describe('record origins', () => {
  it('reads the origin load wrote, as text or as the bytes a consumer gets', () => {
    expect(originOf(loaded(0, [5, 1234]))).toEqual({ topic: TOPIC, partition: 5, offset: 1234n });
    const consumed = { ...loaded(0), headers: { 'kelt.origin.partition': Buffer.from('5'), 'kelt.origin.offset': Buffer.from('9007199254740993') } };
    expect(originOf(consumed)).toEqual({ topic: '', partition: 5, offset: 9007199254740993n });
  });

  it('takes a record without origin headers for one without an origin', () => {
    expect(originOf(loaded(0))).toBeUndefined();
  });

  it('calls origin headers that are there but cannot be a partition, an offset or a topic id malformed', () => {
    const withHeaders = (headers: Record<string, string>) => originOf({ ...loaded(0), headers });
    expect(withHeaders({ 'kelt.origin.partition': '1', 'kelt.origin.offset': '-3' })).toEqual({
      malformed: expect.stringContaining('kelt.origin.offset'),
    });
    expect(withHeaders({ 'kelt.origin.partition': 'x', 'kelt.origin.offset': '3' })).toEqual({
      malformed: expect.stringContaining('kelt.origin.partition'),
    });
    expect(withHeaders({ 'kelt.origin.partition': '2147483648', 'kelt.origin.offset': '3' })).toHaveProperty('malformed');
    expect(withHeaders({ 'kelt.origin.partition': '1', 'kelt.origin.offset': '9223372036854775808' })).toHaveProperty('malformed');
    expect(withHeaders({ 'kelt.origin.partition': '1' })).toHaveProperty('malformed');
    expect(withHeaders({ 'kelt.origin.topic': 'not-an-id', 'kelt.origin.partition': '1', 'kelt.origin.offset': '3' })).toEqual({
      malformed: expect.stringContaining('kelt.origin.topic'),
    });
    expect(withHeaders({ 'kelt.origin.partition': '2147483647', 'kelt.origin.offset': '9223372036854775807' })).toEqual({
      topic: '',
      partition: 2147483647,
      offset: 9223372036854775807n,
    });
  });

  it('skips a batch forwarded twice: the second copy has origins below what was applied', () => {
    const first = [loaded(0, [5, 100]), loaded(1, [5, 101]), loaded(2, [5, 102])];
    const once = skipRepeats(first, new Map());
    expect(offsets(once.fresh)).toEqual(['0', '1', '2']);
    expect(once.applied).toEqual(new Map([[key(5), 103n]]));

    const again = [loaded(3, [5, 100]), loaded(4, [5, 101]), loaded(5, [5, 102]), loaded(6, [5, 103])];
    const twice = skipRepeats(again, once.applied);
    expect(offsets(twice.repeats)).toEqual(['3', '4', '5']);
    expect(offsets(twice.fresh)).toEqual(['6']);
    expect(twice.applied).toEqual(new Map([[key(5), 104n]]));
  });

  it('skips a repeat within one batch, and keeps each origin partition apart', () => {
    const batch = [loaded(0, [1, 10]), loaded(1, [2, 10]), loaded(2, [1, 11]), loaded(3, [1, 10]), loaded(4, [2, 11])];
    const { fresh, repeats, applied } = skipRepeats(batch, new Map([[key(2), 10n]]));
    expect(offsets(fresh)).toEqual(['0', '1', '2', '4']);
    expect(offsets(repeats)).toEqual(['3']);
    expect(applied).toEqual(
      new Map([
        [key(1), 12n],
        [key(2), 12n],
      ]),
    );
  });

  it('applies the records of a raw topic created anew, whose offsets start over under a new id', () => {
    const applied = new Map([[key(0), 5_000n]]);
    const { fresh, repeats, applied: after } = skipRepeats([loaded(0, [0, 0], RECREATED), loaded(1, [0, 1], RECREATED)], applied);
    expect(offsets(fresh)).toEqual(['0', '1']);
    expect(repeats).toEqual([]);
    expect(after).toEqual(
      new Map([
        [key(0), 5_000n],
        [key(0, RECREATED), 2n],
      ]),
    );
  });

  it('sets records with malformed origin headers apart, without moving a watermark', () => {
    const bad = { ...loaded(1), headers: { 'kelt.origin.partition': '0', 'kelt.origin.offset': '99999999999999999999' } };
    const { fresh, malformed, applied } = skipRepeats([loaded(0, [0, 7]), bad, loaded(2, [0, 8])], new Map());
    expect(offsets(fresh)).toEqual(['0', '2']);
    expect(malformed.map(({ record, error }) => [record.offset, error])).toEqual([['1', expect.stringContaining('kelt.origin.offset')]]);
    expect(applied).toEqual(new Map([[key(0), 9n]]));
  });

  it('applies records without an origin, and leaves the watermarks it was given as they were', () => {
    const given = new Map([[key(5), 50n]]);
    const { fresh, repeats } = skipRepeats([loaded(0), loaded(1, [5, 49]), loaded(2)], given);
    expect(offsets(fresh)).toEqual(['0', '2']);
    expect(offsets(repeats)).toEqual(['1']);
    expect(given).toEqual(new Map([[key(5), 50n]]));
  });
});
