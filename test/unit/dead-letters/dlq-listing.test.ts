import { describe, expect, it } from 'vitest';
import { formatListing, isControl, terminalSafe } from '../../../src/dead-letters/dlq-listing.ts';
import type { DeadLetterRecord } from '../../../src/dead-letters/dead-letter-record.ts';

describe('kelt dlq output', () => {
  it('escapes every control character a producer could send to the terminal (C0, DEL, C1)', () => {
    expect(terminalSafe('a\u001b]0;owned\u0007b\u007fc\u009bd\u0085e')).toBe('a\\x1b]0;owned\\x07b\\x7fc\\x9bd\\x85e');
    expect(terminalSafe('plain text, ünïcödé ✓')).toBe('plain text, ünïcödé ✓');
  });

  it('lists a letter whose key, error and stage text hold escape sequences without passing them on', () => {
    const letter = {
      partition: 0,
      offset: 7n,
      key: Buffer.from('k\u009b2J'),
      value: null,
      headers: {},
      stage: 'extract',
      reason: 'schema_violation',
      error: 'bad \u001b[2J value \u007f',
      failedAt: new Date('2026-12-07T10:00:00Z'),
      original: { topic: 'p.raw\u001b[31m', partition: 1, offset: 3n },
    } as unknown as DeadLetterRecord;
    const text = formatListing({
      matched: 1,
      counts: new Map([['extract/schema_violation', { waiting: 1, redriven: 0, 'not redrivable': 0 }]]),
      letters: [{ letter, state: 'waiting' }],
    });
    expect([...text].filter((character) => character !== '\n' && isControl(character.charCodeAt(0)))).toEqual([]);
    expect(text).toContain('bad \\x1b[2J value \\x7f');
  });
});
