import { describe, it } from 'vitest';
import type { StageName } from '../../src/pipeline/topology.ts';
import { expectExactlyOnce, faultRun } from '../support/fault-run.ts';

describe('fault: group members added and removed during the flow', () => {
  it('processes every record exactly once through rebalances', async () => {
    const stages: StageName[] = ['extract', 'load', 'transform'];
    const counts = await faultRun({
      scenario: 'members added, stopped and killed (rebalances)',
      events: 30_000,
      rate: 1_000,
      faults: async ({ members, addMember, at }) => {
        await at(3);
        await Promise.all(stages.map((stage) => addMember(stage)));
        await at(9);
        // A graceful leave from every group: its partitions move to the other member.
        await Promise.all(stages.map((stage) => members.get(stage)![0]!.signal('SIGTERM')));
        await at(13);
        await Promise.all(stages.map((stage) => addMember(stage)));
        await at(19);
        // An ungraceful one: the member's partitions move when its session times out.
        await Promise.all(stages.map((stage) => members.get(stage)![1]!.signal('SIGKILL')));
      },
    });
    expectExactlyOnce(counts, 30_000);
  });
});
