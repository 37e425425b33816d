import { afterAll, beforeAll, describe, it } from 'vitest';
import type { StageName } from '../../src/pipeline/topology.ts';
import { expectExactlyOnce, faultRun } from '../support/fault-run.ts';
import { broker, clusterBrokers, clusterDown, clusterUp } from '../support/three-brokers.ts';

describe('fault: a broker restarted while every group rebalances', () => {
  beforeAll(clusterUp);
  afterAll(clusterDown);

  it('keeps every event exactly once when members join while a broker goes down and comes back', async () => {
    const stages: StageName[] = ['extract', 'load', 'transform'];
    const counts = await faultRun({
      scenario: 'broker restarted during a rebalance',
      events: 30_000,
      rate: 1_000,
      kafkaBrokers: clusterBrokers,
      faults: async ({ addMember, at }) => {
        await at(5);
        // The joins and the broker's exit overlap: group coordinators and
        // partition leaders move while the groups sync their assignments.
        const joining = Promise.all(stages.map((stage) => addMember(stage)));
        await broker('kill', 1);
        try {
          await joining;
        } finally {
          await at(15);
          await broker('start', 1);
        }
      },
    });
    expectExactlyOnce(counts, 30_000);
  });
});
