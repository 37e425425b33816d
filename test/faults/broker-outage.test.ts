import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectExactlyOnce, faultRun } from '../support/fault-run.ts';
import { broker, clusterBrokers, clusterDown, clusterUp } from '../support/three-brokers.ts';

describe('fault: one broker of three stopped for 30 s', () => {
  beforeAll(clusterUp);
  afterAll(clusterDown);

  it('keeps every event exactly once while a broker is away and after it returns', async () => {
    const counts = await faultRun({
      scenario: 'one broker of three stopped for 30 s',
      events: 40_000,
      rate: 1_000,
      kafkaBrokers: clusterBrokers,
      faults: async ({ at }) => {
        await at(5);
        await broker('stop', 2);
        await at(35);
        await broker('start', 2);
      },
    });
    expectExactlyOnce(counts, 40_000);
  });
});
