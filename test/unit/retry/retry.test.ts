import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../../src/errors.ts';
import { isRetriable } from '../../../src/kafka/errors.ts';
import { backoffMs, isKeltRetriable, retryTransient } from '../../../src/retry/retry.ts';
import { kafkaErrors } from '../../support/kafka-errors.ts';

describe('backoffMs', () => {
  const policy = { initialMs: 100, maxMs: 1_000 };

  it('doubles per attempt, between half and all of the cap, and never exceeds maxMs', () => {
    expect(backoffMs(0, policy, () => 0)).toBe(50);
    expect(backoffMs(0, policy, () => 1)).toBe(100);
    expect(backoffMs(3, policy, () => 1)).toBe(800);
    expect(backoffMs(10, policy, () => 1)).toBe(1_000);
    expect(backoffMs(10, policy, () => 0)).toBe(500);
  });
});

describe('isRetriable', () => {
  it('follows kelt error classes, retries Kafka client errors, and not bugs', () => {
    expect(isRetriable(new TransientError('db down'))).toBe(true);
    expect(isRetriable(new PermanentError('bad row'))).toBe(false);
    const kafka = kafkaErrors.retriesExceeded(kafkaErrors.connection('broker away'));
    expect(isRetriable(kafka)).toBe(true);
    expect(isRetriable(new TypeError('x is undefined'))).toBe(false);
  });

  it('by default, retryTransient retries kelt’s retriable errors only (an adapter’s caller passes its own)', () => {
    expect(isKeltRetriable(new TransientError('db down'))).toBe(true);
    expect(isKeltRetriable(kafkaErrors.retriesExceeded(kafkaErrors.connection('broker away')))).toBe(false);
  });
});

describe('retryTransient', () => {
  const fast = { initialMs: 1, maxMs: 2 };

  it('retries transient failures until the work succeeds, reporting each', async () => {
    let calls = 0;
    const reported: number[] = [];
    const result = await retryTransient(
      async () => {
        if (++calls < 3) throw new TransientError('not yet');
        return 'done';
      },
      { onRetry: (_error, attempt) => void reported.push(attempt), shouldStop: () => false, policy: fast },
    );
    expect(result).toBe('done');
    expect(reported).toEqual([0, 1]);
  });

  it('throws a permanent failure at once', async () => {
    let calls = 0;
    await expect(
      retryTransient(
        async () => {
          calls++;
          throw new PermanentError('bad');
        },
        { shouldStop: () => false, policy: fast },
      ),
    ).rejects.toBeInstanceOf(PermanentError);
    expect(calls).toBe(1);
  });

  it('gives up when told to stop', async () => {
    await expect(
      retryTransient(
        async () => {
          throw new TransientError('down');
        },
        { shouldStop: () => true, policy: fast },
      ),
    ).rejects.toBeInstanceOf(TransientError);
  });
});
