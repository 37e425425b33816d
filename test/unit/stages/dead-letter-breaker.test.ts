import { describe, expect, it } from 'vitest';
import { DeadLetterFloodError } from '../../../src/errors.ts';
import { DeadLetterBreaker } from '../../../src/stages/dead-letter-breaker.ts';

describe('the dead-letter breaker', () => {
  const clock = () => {
    let now = 0;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };

  it('counts a batch it lets through at once, so that concurrent batches of other partitions see it', () => {
    const breaker = new DeadLetterBreaker({ ratio: 0.5, minRecords: 100, windowMs: 60_000 });
    expect(() => breaker.admit(60, 60, ['unknown_schema'])).not.toThrow();
    expect(() => breaker.admit(60, 60, ['unknown_schema'])).toThrow(DeadLetterFloodError);
  });

  it('lets a few bad records through, however large their share of a small window', () => {
    const breaker = new DeadLetterBreaker({ ratio: 0.5, minRecords: 100, windowMs: 60_000 });
    expect(() => breaker.admit(10, 10, ['transform_error'])).not.toThrow();
    expect(() => breaker.admit(80, 80, ['transform_error'])).not.toThrow();
  });

  it('refuses the batch that brings the share past the ratio over enough records, naming the reasons', () => {
    const breaker = new DeadLetterBreaker({ ratio: 0.5, minRecords: 100, windowMs: 60_000 });
    breaker.admit(60, 40, ['unknown_schema']);
    expect(() => breaker.admit(50, 20, ['unknown_schema', 'unknown_schema', 'undecodable'])).toThrow(DeadLetterFloodError);
    try {
      breaker.admit(50, 20, ['unknown_schema', 'undecodable']);
    } catch (error) {
      expect((error as Error).message).toBe(
        '60 of the last 110 records would be dead-lettered (unknown_schema, undecodable): more than 50%, so they wait in Kafka; fix the cause (registry, tables, transform) and the stage goes on',
      );
      expect((error as DeadLetterFloodError).retriable).toBe(true);
    }
    // A batch without dead letters always goes, and good batches bring the share down.
    expect(() => breaker.admit(500, 0, [])).not.toThrow();
    expect(() => breaker.admit(50, 20, ['unknown_schema'])).not.toThrow();
  });

  it('forgets batches older than its window', () => {
    const time = clock();
    const breaker = new DeadLetterBreaker({ ratio: 0.5, minRecords: 100, windowMs: 60_000 }, time.now);
    breaker.admit(90, 90, ['row_rejected']);
    expect(() => breaker.admit(10, 10, ['row_rejected'])).toThrow(DeadLetterFloodError);
    time.advance(61_000);
    expect(() => breaker.admit(10, 10, ['row_rejected'])).not.toThrow();
  });
});
