import { setTimeout as sleep } from 'node:timers/promises';
import { KeltError } from '../errors.ts';

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { initialMs: 200, maxMs: 15_000 };

/** Capped exponential backoff with full jitter: attempt 0 waits up to initialMs. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxMs, policy.initialMs * 2 ** attempt);
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export function isRetriable(error: unknown): boolean {
  return error instanceof KeltError ? error.retriable : true;
}

/**
 * Runs `work` until it succeeds, retrying retriable failures with backoff.
 * `onRetry` is told of each failure (to log, heartbeat, report not-ready);
 * a non-retriable error, or `shouldStop()` turning true, ends the loop by throwing.
 */
export async function retryTransient<T>(
  work: () => Promise<T>,
  onRetry: (error: unknown, attempt: number, waitMs: number) => Promise<void> | void,
  shouldStop: () => boolean,
  policy: RetryPolicy = defaultRetryPolicy,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isRetriable(error) || shouldStop()) throw error;
      const wait = backoffMs(attempt, policy);
      await onRetry(error, attempt, wait);
      await sleep(wait);
    }
  }
}
