import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../../src/threads/worker-pool.ts';

const taskFile = new URL('../../support/workers/waiting-task.ts', import.meta.url);
let pool: WorkerPool<{ ms: number }, number> | undefined;
afterEach(() => pool?.close());

describe('WorkerPool', () => {
  it('is saturated once its queue holds maxQueue tasks, and drained resolves when the queue has emptied', async () => {
    pool = new WorkerPool({ file: taskFile, threads: 1, maxQueue: 2 });
    expect(pool.saturated).toBe(false);
    await pool.drained();
    const results = [1_000, 1, 1, 1].map((ms) => pool!.run({ ms }));
    // The first task holds the only thread for a second: at least the last two wait behind it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pool.queueSize).toBeGreaterThanOrEqual(2);
    expect(pool.saturated).toBe(true);
    await pool.drained();
    expect(pool.queueSize).toBe(0);
    expect(pool.saturated).toBe(false);
    expect(await Promise.all(results)).toEqual([1_000, 1, 1, 1]);
  });

  it('an aborted task rejects and its worker is replaced; the next task runs', async () => {
    pool = new WorkerPool({ file: taskFile, threads: 1, maxQueue: 4 });
    const controller = new AbortController();
    const hanging = pool.run({ ms: 60_000 }, [], controller.signal);
    controller.abort();
    await expect(hanging).rejects.toMatchObject({ name: 'AbortError' });
    expect(await pool.run({ ms: 1 })).toBe(1);
  });
});
