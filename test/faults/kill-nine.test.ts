import { describe, expect, it } from 'vitest';
import { expectExactlyOnce, faultRun } from '../support/fault-run.ts';
import type { StageName } from '../../src/stages/stage-runner.ts';

describe('fault: kill -9 of each stage in turn', () => {
  it('loses nothing and duplicates nothing when every stage is killed mid-stream and restarted', async () => {
    const counts = await faultRun({
      scenario: 'kill -9 each stage in turn',
      events: 24_000,
      rate: 1_000,
      faults: async ({ members, addMember, at }) => {
        let when = 3;
        for (const stage of ['extract', 'load', 'transform'] as StageName[]) {
          await at(when);
          const victim = members.get(stage)!.find((member) => member.running)!;
          const exit = await victim.signal('SIGKILL');
          expect(exit.signal).toBe('SIGKILL');
          await addMember(stage);
          when += 6;
        }
      },
    });
    expectExactlyOnce(counts, 24_000);
  });
});
