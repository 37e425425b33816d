import { describe, expect, it } from 'vitest';
import { readDeadLetter, redrivenRecord, redriveRefusal } from '../../../src/dead-letters/dead-letter-record.ts';
import { letterFilter, matches } from '../../../src/dead-letters/letter-filter.ts';
import type { ConsumedRecord, OutgoingRecord } from '../../../src/kafka/records.ts';
import { DeadLetterQueue } from '../../../src/stages/dead-letter.ts';
import { originHeadersOf } from '../../../src/records/record-origin.ts';

const consumed: ConsumedRecord = {
  key: Buffer.from('user-7'),
  value: Buffer.from([0, 0, 0, 0, 5, 1, 2, 3]),
  offset: '41',
  timestamp: '1767225600000',
  headers: { ...originHeadersOf(3, '977', 'a1b2c3d4e5f60718293a4b5c6d7e8f90'), trace: Buffer.from('abc') },
};

/** What DeadLetterQueue sends, as the DLQ hands it back. */
async function lettersOf(queue: DeadLetterQueue, error: string): Promise<ConsumedRecord[]> {
  const sent: OutgoingRecord[] = [];
  await queue.send({ send: async (_topic, records) => void sent.push(...records) }, [
    { topic: 'pv.extracted', partition: 3, message: consumed, reason: 'row_rejected', error },
  ]);
  return sent.map((record, i) => ({
    key: record.key === undefined || record.key === null ? null : Buffer.from(record.key),
    value: record.value === null ? null : Buffer.from(record.value),
    offset: String(100 + i),
    timestamp: '0',
    headers: Object.fromEntries(Object.entries(record.headers ?? {}).map(([name, value]) => [name, Buffer.from(String(value))])),
  }));
}

describe('a dead letter read back from the DLQ', () => {
  it('reads what DeadLetterQueue wrote: stage, reason, error, time, original place, key, value and the record’s own headers', async () => {
    const [record] = await lettersOf(new DeadLetterQueue({ topic: 'pv.dlq', stage: 'load' }), 'user_agent: 300 characters, the column holds 20');
    const letter = readDeadLetter(3, record!);
    expect(letter).toMatchObject({
      partition: 3,
      offset: 100n,
      stage: 'load',
      reason: 'row_rejected',
      error: 'user_agent: 300 characters, the column holds 20',
      original: { topic: 'pv.extracted', partition: 3, offset: 41n },
      key: Buffer.from('user-7'),
      value: consumed.value,
      valueOmitted: undefined,
    });
    expect(letter.failedAt).toBeInstanceOf(Date);
    expect(Object.keys(letter.headers).sort()).toEqual(['kelt.origin.offset', 'kelt.origin.partition', 'kelt.origin.topic', 'trace']);
    expect(redriveRefusal(letter)).toBeUndefined();
  });

  it('is redriven into its original topic and partition with its key, value and headers, without its origin, marked with where it came back from', async () => {
    const [record] = await lettersOf(new DeadLetterQueue({ topic: 'pv.dlq', stage: 'load' }), 'refused');
    const redriven = redrivenRecord(readDeadLetter(3, record!));
    expect(redriven).toEqual({
      topic: 'pv.extracted',
      partition: 3,
      key: Buffer.from('user-7'),
      value: consumed.value,
      headers: { trace: Buffer.from('abc'), 'kelt.redriven.from': '3@100' },
    });
  });

  it('refuses to redrive a letter whose value the DLQ could not hold, or that names no original place', async () => {
    const [tooLarge] = await lettersOf(new DeadLetterQueue({ topic: 'pv.dlq', stage: 'load', recordLimitOf: async () => 200 }), 'too large');
    const letter = readDeadLetter(3, tooLarge!);
    expect(letter.value).toBeNull();
    expect(redriveRefusal(letter)).toMatch(/value was not kept .* still at pv\.extracted\[3\]@41/);
    expect(() => redrivenRecord(letter)).toThrow(/cannot be redriven/);
    const foreign = readDeadLetter(0, { key: null, value: Buffer.from('x'), offset: '5', timestamp: '0' });
    expect(foreign).toMatchObject({ stage: 'unknown', reason: 'unknown', original: undefined });
    expect(redriveRefusal(foreign)).toBe('it does not name its original topic and partition');
  });
});

describe('choosing dead letters', () => {
  it('matches every part given, and refuses a reason kelt never writes or a time that does not parse', async () => {
    const [record] = await lettersOf(new DeadLetterQueue({ topic: 'pv.dlq', stage: 'load' }), 'refused');
    const letter = readDeadLetter(3, record!);
    expect(matches({}, letter)).toBe(true);
    expect(matches(letterFilter({ reason: ['row_rejected'], stage: 'load', topic: 'pv.extracted' }), letter)).toBe(true);
    expect(matches(letterFilter({ reason: ['transform_error'] }), letter)).toBe(false);
    expect(matches(letterFilter({ stage: 'extract' }), letter)).toBe(false);
    expect(matches(letterFilter({ until: '2000-01-01T00:00:00Z' }), letter)).toBe(false);
    expect(matches(letterFilter({ since: '2000-01-01T00:00:00Z' }), letter)).toBe(true);
    expect(() => letterFilter({ reason: ['row_rejectd'] })).toThrow(/--reason row_rejectd: kelt's reasons are undecodable/);
    expect(() => letterFilter({ since: 'yesterday' })).toThrow(/--since yesterday is not an ISO-8601 time/);
  });
});
