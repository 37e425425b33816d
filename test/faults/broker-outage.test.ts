import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectExactlyOnce, faultRun, stack } from '../support/fault-run.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * A three-broker cluster of the local stack's (replication factor 3,
 * min.insync.replicas 2, producers acks=all) on ports of its own, beside the
 * one-broker cluster the other tests use; the registry and MariaDB are shared.
 */
const clusterEnv = {
  KELT_STACK_DIR: fileURLToPath(new URL('../../.stack/three-brokers', import.meta.url)),
  KELT_STACK_KAFKA_PORT: '29092',
};
const brokers = ['127.0.0.1:29092', '127.0.0.1:29094', '127.0.0.1:29096'];
const stackScript = fileURLToPath(new URL('../../scripts/stack', import.meta.url));
const run = promisify(execFile);

describe('fault: one broker of three stopped for 30 s', () => {
  beforeAll(async () => {
    await run(stackScript, ['up', '--brokers', '3', '--only', 'kafka'], { env: { ...process.env, ...clusterEnv } });
  });
  afterAll(async () => {
    await run(stackScript, ['down'], { env: { ...process.env, ...clusterEnv } });
  });

  it('keeps every event exactly once while a broker is away and after it returns', async () => {
    const counts = await faultRun({
      scenario: 'one broker of three stopped for 30 s',
      events: 40_000,
      rate: 1_000,
      kafkaBrokers: brokers,
      faults: async ({ at }) => {
        await at(5);
        await stack('stop', 'broker-2', clusterEnv);
        await at(35);
        await stack('start', 'broker-2', clusterEnv);
      },
    });
    expectExactlyOnce(counts, 40_000);
  });
});
