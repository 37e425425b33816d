import { describe, expect, it } from 'vitest';
import { expectExactlyOnce, faultRun } from '../support/fault-run.ts';

describe('fault: kill -9 of each stage in turn', () => {
  it('loses nothing and duplicates nothing when every stage is killed mid-stream and restarted', async () => {
    const counts = await faultRun({
      scenario: 'kill -9 each stage in turn',
      events: 24_000,
      rate: 1_000,
      faults: async ({ replaceEachStage }) => {
        for (const { exit } of await replaceEachStage('SIGKILL')) expect(exit.signal).toBe('SIGKILL');
      },
    });
    expectExactlyOnce(counts, 24_000);
  });
});
