import { describe, expect, it } from 'vitest';
import { nextRequestSize, waitAfterSend } from '../../../src/produce/request-pacing.ts';

describe('produce request pacing', () => {
  const paced = { rate: 1_000, batchSize: 500 };

  it('sends full requests as fast as it can without a rate', () => {
    expect(nextRequestSize({ batchSize: 500 }, 10_000, 0)).toBe(500);
    expect(waitAfterSend({ batchSize: 500 }, 0, 500)).toBe(0);
  });

  it('sends a twentieth of a second’s events per request while on schedule, then waits for the schedule', () => {
    expect(nextRequestSize(paced, 0, 0)).toBe(50);
    expect(nextRequestSize(paced, 50, 50)).toBe(50);
    expect(waitAfterSend(paced, 10, 50)).toBe(40);
  });

  it('catches up with every event due when its requests took longer than the schedule', () => {
    // 50 sent, the request took 300 ms: 300 are due, 250 of them unsent.
    expect(waitAfterSend(paced, 300, 50)).toBe(0);
    expect(nextRequestSize(paced, 300, 50)).toBe(250);
    // Far behind (a broker was away): full requests until on schedule again.
    expect(nextRequestSize(paced, 30_000, 5_000)).toBe(500);
  });

  it('keeps slow rates to at least one event per request', () => {
    expect(nextRequestSize({ rate: 5, batchSize: 500 }, 0, 0)).toBe(1);
    expect(waitAfterSend({ rate: 5, batchSize: 500 }, 0, 1)).toBe(200);
  });
});
