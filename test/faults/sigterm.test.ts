import { describe, expect, it } from 'vitest';
import type { StageName } from '../../src/pipeline/topology.ts';
import { expectExactlyOnce, faultRun } from '../support/fault-run.ts';

const GRACE_SECONDS = 20;

describe('fault: SIGTERM under load', () => {
  it('drains and exits 0 within the grace period, and the restarted stage resumes where it committed', async () => {
    const exits: Array<{ stage: StageName; code: number | null; seconds: number }> = [];
    const counts = await faultRun({
      scenario: 'SIGTERM each stage under load, then restart',
      events: 24_000,
      rate: 1_000,
      faults: async ({ replaceEachStage }) => {
        for (const { stage, exit } of await replaceEachStage('SIGTERM')) exits.push({ stage, code: exit.code, seconds: exit.seconds });
      },
    });
    for (const exit of exits) {
      expect(exit.code, `${exit.stage} exit code`).toBe(0);
      expect(exit.seconds, `${exit.stage} drain time`).toBeLessThan(GRACE_SECONDS);
    }
    expectExactlyOnce(counts, 24_000);
  });
});
