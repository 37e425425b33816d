import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { kafkajsPatched } from '../../../src/kafka/kafkajs-patch.ts';
import '../../../src/kafka/kafkajs-stop-fix.ts';

const require = createRequire(import.meta.url);

describe('kafkajs fetch manager, as kelt loads it', () => {
  it('stops for good when the broker set changes while it stops (kafkajs would restart its fetchers and spin)', async () => {
    type Manager = { start(): Promise<void>; stop(): Promise<void> };
    expect(kafkajsPatched('consumer/fetchManager.js')).toBe(true);
    const createFetchManager = require('kafkajs/src/consumer/fetchManager.js') as (options: object) => Manager;
    const logger: object = { namespace: () => logger, debug() {}, info() {}, warn() {}, error() {} };
    let running = true;
    let nodeIds = [1, 2, 3];
    let fetchesAfterStop = 0;
    const manager = createFetchManager({
      logger,
      getNodeIds: () => nodeIds,
      concurrency: 1,
      handler: async () => {},
      // Like kafkajs's runner: a stopped runner answers at once with nothing;
      // a running one waits on the broker (node 1 answers first).
      fetch: async (nodeId: number) => {
        if (!running) {
          fetchesAfterStop++;
          return [];
        }
        await sleep(nodeId === 1 ? 5 : 50);
        return [];
      },
    });
    const started = manager.start();
    await sleep(60);
    // A broker leaves; node 1's fetcher notices and the manager rebalances its
    // fetchers, and the consumer stops meanwhile. Unfixed, the manager starts
    // new fetchers after the stop, which loop on promises alone, forever.
    nodeIds = [2, 3];
    await sleep(10);
    running = false;
    await manager.stop();
    await started;
    expect(fetchesAfterStop).toBeLessThan(10);
  });
});
