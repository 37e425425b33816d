import { setTimeout as sleep } from 'node:timers/promises';
import { KeltError } from '../errors.ts';

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { initialMs: 200, maxMs: 5_000 };

/** Capped exponential backoff with full jitter: attempt 0 waits up to initialMs. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxMs, policy.initialMs * 2 ** attempt);
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** kelt's errors say whether retrying can help; anything else is a bug, and retrying it would only hide it. */
export function isKeltRetriable(error: unknown): boolean {
  return error instanceof KeltError && error.retriable;
}

export interface RetryOptions {
  /** Which failures to retry (default: kelt's retriable errors; an adapter's caller passes the adapter's, e.g. kafka/errors.ts `isRetriable`). */
  isRetriable?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, waitMs: number) => Promise<void> | void;
  shouldStop: () => boolean;
  policy?: RetryPolicy;
  wait?: (ms: number) => Promise<unknown>;
}

/**
 * Runs `work` until it succeeds, retrying retriable failures with backoff.
 * `onRetry` is told of each failure (to log, heartbeat, report not-ready);
 * `wait` waits out the backoff (a consumer keeps heartbeating meanwhile);
 * a non-retriable error, or `shouldStop()` turning true, ends the loop by throwing.
 */
export async function retryTransient<T>(
  work: () => Promise<T>,
  { isRetriable = isKeltRetriable, onRetry = () => undefined, shouldStop, policy = defaultRetryPolicy, wait = sleep }: RetryOptions,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isRetriable(error) || shouldStop()) throw error;
      const waitMs = backoffMs(attempt, policy);
      await onRetry(error, attempt, waitMs);
      await wait(waitMs);
      if (shouldStop()) throw error;
    }
  }
}
