import { afterAll, beforeAll, describe, it } from 'vitest';
import { groupIdOf, inputTopicOf } from '../../src/pipeline/topology.ts';
import { expectExactlyOnce, faultRun } from '../support/fault-run.ts';
import { broker, busiestTransactionCoordinator, clusterBrokers, clusterDown, clusterUp } from '../support/three-brokers.ts';

describe('fault: the transaction coordinator’s broker killed while extract, load and transform commit', () => {
  beforeAll(clusterUp);
  afterAll(clusterDown);

  it('never writes a batch twice when a commit’s answer is lost with its coordinator', async () => {
    const counts = await faultRun({
      scenario: 'transaction coordinator killed (-9) twice',
      events: 40_000,
      rate: 1_000,
      kafkaBrokers: clusterBrokers,
      faults: async ({ t, at }) => {
        const { pipeline } = t;
        const ids = (['extract', 'load', 'transform'] as const).flatMap((stage) => {
          const input = inputTopicOf(pipeline, stage);
          return Array.from({ length: pipeline.partitions }, (_, p) => `${groupIdOf(pipeline, stage)}.${input}.${p}`);
        });
        for (const [kill, start] of [
          [5, 20],
          [28, 43],
        ] as const) {
          await at(kill);
          // kill -9 mid-flow: EndTxn requests in flight lose their answers
          // after the coordinator may already have written PrepareCommit.
          const coordinator = await busiestTransactionCoordinator(t.connections.kafka, ids);
          await broker('kill', coordinator);
          await at(start);
          await broker('start', coordinator);
        }
      },
    });
    expectExactlyOnce(counts, 40_000);
  });
});
