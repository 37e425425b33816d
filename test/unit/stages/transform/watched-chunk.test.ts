import { afterAll, describe, expect, it } from 'vitest';
import { runWatched, type RunChunk } from '../../../../src/stages/transform/watched-chunk.ts';
import type { TransformOutcome } from '../../../../src/threads/transform-task.ts';
import { WorkerPool } from '../../../../src/threads/worker-pool.ts';

type Task = { records: string[]; progress: Int32Array };

/** A real Piscina pool (two threads, a 64 MB heap each) over a worker whose records say what they do. */
const pool = new WorkerPool<Task, TransformOutcome[]>({
  file: new URL('./fixtures/chunk-worker.ts', import.meta.url),
  threads: 2,
  maxQueue: 8,
  memoryMb: 64,
});
const run: RunChunk<string> = (records, progress, signal) => pool.run({ records: [...records], progress }, [], signal);
const limits = { recordMs: 1_000, memoryMb: 64 };
const summary = (outcomes: TransformOutcome[]) =>
  outcomes.map((outcome) => (outcome.ok ? (outcome.rows.t![0] as { record: string }).record : outcome.reason));

describe('a watched chunk', () => {
  afterAll(() => pool.close());

  it('passes a chunk whose records all finish', async () => {
    expect(summary(await runWatched(['a', 'b', 'c'], run, limits))).toEqual(['a', 'b', 'c']);
  });

  it('fails only the record that loops or never settles, and transforms every other one on a fresh worker', async () => {
    const records = ['a', 'loop', 'b', 'c', 'hang', 'd'];
    const outcomes = await runWatched(records, run, limits);
    expect(summary(outcomes)).toEqual(['a', 'transform_timeout', 'b', 'c', 'transform_timeout', 'd']);
    expect(outcomes[1]).toMatchObject({ error: 'the transform did not finish this record within 1000 ms' });
    // The pool still works: the terminated workers were replaced.
    expect(summary(await runWatched(['e'], run, limits))).toEqual(['e']);
  }, 20_000);

  it('fails only the record that runs its worker out of memory', async () => {
    expect(summary(await runWatched(['a', 'oom', 'b'], run, { ...limits, recordMs: 10_000 }))).toEqual(['a', 'transform_out_of_memory', 'b']);
  }, 30_000);

  it('throws any other failure of the chunk', async () => {
    await expect(runWatched(['a', 'fail'], run, limits)).rejects.toThrow('the chunk failed');
  });
});

describe('a pool of abortable tasks', () => {
  it('says when its queue has drained (Piscina’s drain event never fires while an abortable task runs)', async () => {
    const small = new WorkerPool<Task, TransformOutcome[]>({
      file: new URL('./fixtures/chunk-worker.ts', import.meta.url),
      threads: 1,
      maxQueue: 2,
      memoryMb: 64,
    });
    try {
      const tasks = Array.from({ length: 6 }, (_, i) =>
        runWatched([`r${i}`, `s${i}`], (records, progress, signal) => small.run({ records: [...records], progress }, [], signal), limits),
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(small.saturated).toBe(true);
      await small.drained();
      expect(small.queueSize).toBe(0);
      expect((await Promise.all(tasks)).flat()).toHaveLength(12);
    } finally {
      await small.close();
    }
  });
});
