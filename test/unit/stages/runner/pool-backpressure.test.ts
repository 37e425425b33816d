import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../src/log/logger.ts';
import { PauseController } from '../../../../src/stages/runner/pause-controller.ts';
import { PoolBackpressure } from '../../../../src/stages/runner/pool-backpressure.ts';

describe('PoolBackpressure', () => {
  it('holds a batch while the pool is saturated, with fetching paused, and reports pause and resume', async () => {
    const switches: string[] = [];
    const changes: boolean[] = [];
    let drain!: () => void;
    const pool = { saturated: true, queueSize: 8, drained: () => new Promise<void>((resolve) => (drain = resolve)) };
    const pauses = new PauseController({ pause: (topic) => switches.push(`pause ${topic}`), resume: (topic) => switches.push(`resume ${topic}`) });
    const backpressure = new PoolBackpressure({ pool, pauses, report: ({ paused }) => changes.push(paused), logger: createLogger('silent') });
    let through = false;
    const waiting = backpressure.waitForRoom('in').then(() => (through = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(through).toBe(false);
    expect(switches).toEqual(['pause in']);
    drain();
    await waiting;
    expect(switches).toEqual(['pause in', 'resume in']);
    expect(changes).toEqual([true, false]);
  });

  it('lets a batch through at once when the pool has room, or when the stage has no pool', async () => {
    const pauses = new PauseController({ pause: () => expect.fail('paused'), resume: () => undefined });
    const roomy = { saturated: false, queueSize: 0, drained: async () => expect.fail('waited') };
    await new PoolBackpressure({ pool: roomy, pauses, report: () => expect.fail('reported'), logger: createLogger('silent') }).waitForRoom('in');
    await new PoolBackpressure({ pool: undefined, pauses, report: () => expect.fail('reported'), logger: createLogger('silent') }).waitForRoom('in');
  });
});
