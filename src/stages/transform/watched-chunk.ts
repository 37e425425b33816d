import type { TransformOutcome } from '../../threads/transform-task.ts';

/**
 * Where a worker is in its chunk: the index of the record it is on, written
 * by the worker before each record into memory both threads share (-1: not
 * started). The stage's thread reads it to tell a record that never finishes
 * from a chunk that is merely long, and to know which record a worker died on.
 */
export type ChunkProgress = Int32Array;

export function newChunkProgress(): ChunkProgress {
  const progress = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  progress[0] = -1;
  return progress;
}

/** Runs a chunk's task on the pool, `signal` cancelling it (the worker running it is terminated). */
export type RunChunk<T> = (records: readonly T[], progress: ChunkProgress, signal: AbortSignal) => Promise<TransformOutcome[]>;

export interface ChunkLimits {
  /** The longest one record may take, from its start (an endless loop, a promise that never settles). */
  recordMs: number;
  /** The worker's heap limit, for the message (Piscina's resourceLimits enforce it). */
  memoryMb: number;
}

/**
 * Runs `records` through `run` so that no record can stop its chunk: a record
 * that takes longer than `recordMs` has its worker terminated, one that runs
 * its worker out of memory kills it; either way that record alone fails
 * (`transform_timeout`, `transform_out_of_memory`) and the records around it
 * run again on a fresh worker. Any other failure is thrown.
 */
export async function runWatched<T>(records: readonly T[], run: RunChunk<T>, limits: ChunkLimits): Promise<TransformOutcome[]> {
  if (records.length === 0) return [];
  const progress = newChunkProgress();
  const controller = new AbortController();
  let stuckAt = -1;
  let seen = -1;
  let since = performance.now();
  const watch = setInterval(
    () => {
      const at = Atomics.load(progress, 0);
      if (at !== seen) {
        seen = at;
        since = performance.now();
      } else if (at >= 0 && performance.now() - since > limits.recordMs) {
        stuckAt = at;
        controller.abort();
      }
    },
    Math.max(10, Math.min(100, limits.recordMs / 4)),
  );
  let failed: { at: number; outcome: TransformOutcome };
  try {
    return await run(records, progress, controller.signal);
  } catch (error) {
    if (stuckAt >= 0) {
      failed = {
        at: stuckAt,
        outcome: { ok: false, reason: 'transform_timeout', error: `the transform did not finish this record within ${limits.recordMs} ms` },
      };
    } else if ((error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY' && Atomics.load(progress, 0) >= 0) {
      const at = Atomics.load(progress, 0);
      failed = {
        at,
        outcome: {
          ok: false,
          reason: 'transform_out_of_memory',
          error: `the transform ran its worker out of memory (${limits.memoryMb} MB) on this record`,
        },
      };
    } else {
      throw error;
    }
  } finally {
    clearInterval(watch);
  }
  return [
    ...(await runWatched(records.slice(0, failed.at), run, limits)),
    failed.outcome,
    ...(await runWatched(records.slice(failed.at + 1), run, limits)),
  ];
}
