import { describe, expect, it } from 'vitest';
import { PermanentError, StaleBatchError, TransientError } from '../../../../src/errors.ts';
import { createLogger } from '../../../../src/log/logger.ts';
import { emptyReport, type BatchProcessor, type PartitionBatch } from '../../../../src/stages/batch-processor.ts';
import { DeadLetterQueue } from '../../../../src/stages/dead-letter.ts';
import { BatchAttempts } from '../../../../src/stages/runner/batch-attempts.ts';
import { FaultTracker } from '../../../../src/stages/runner/fault-tracker.ts';
import { Heartbeats } from '../../../../src/stages/runner/heartbeats.ts';
import { OffsetCommitter } from '../../../../src/stages/runner/offset-committer.ts';
import { PauseController } from '../../../../src/stages/runner/pause-controller.ts';
import { steppedClock } from '../../../support/stepped-clock.ts';

const logger = createLogger('silent');
const batch: PartitionBatch = {
  topic: 'in',
  partition: 2,
  messages: [0, 1, 2].map((i) => ({ key: null, value: null, offset: String(i), timestamp: '0' })),
  nextOffset: '3',
};

function attemptsWith(processor: Partial<BatchProcessor>) {
  const switches: string[] = [];
  const faults = new FaultTracker();
  faults.markStarted();
  const retries: number[] = [];
  const readyDuring: boolean[] = [];
  const attempts = new BatchAttempts({
    processor: { commitsOffsets: true, processBatch: async () => emptyReport(), close: async () => undefined, ...processor },
    deadLetters: new DeadLetterQueue({ topic: 'p.dlq', stage: 'load' }),
    session: {
      committer: new OffsetCommitter(async () => undefined, logger),
      pauses: new PauseController({ pause: (topic) => switches.push(`pause ${topic}`), resume: (topic) => switches.push(`resume ${topic}`) }),
      faults,
      heartbeats: new Heartbeats({ sessionTimeoutMs: 10_000, lost: () => undefined, logger, clock: steppedClock() }),
    },
    policy: { initialMs: 1, maxMs: 1 },
    logger,
    onRetry: ({ attempt }) => (retries.push(attempt), readyDuring.push(faults.ready)),
  });
  return { attempts, switches, faults, retries, readyDuring };
}

describe('BatchAttempts', () => {
  it('retries a transient failure with the topic paused and the stage not ready, then resumes and reports', async () => {
    let failures = 2;
    const { attempts, switches, faults, retries, readyDuring } = attemptsWith({
      processBatch: async () => {
        if (failures-- > 0) throw new TransientError('MySQL down');
        return { produced: 3, written: 3, deadLettered: [] };
      },
    });
    const report = await attempts.process(
      batch,
      async () => undefined,
      () => true,
    );
    expect(report?.written).toBe(3);
    expect(retries).toEqual([0, 1]);
    expect(readyDuring).toEqual([false, false]);
    expect(switches).toEqual(['pause in', 'resume in']);
    expect(faults.ready).toBe(true);
  });

  it('hands the processor only what the group has not committed yet', async () => {
    const seen: string[][] = [];
    const { attempts } = attemptsWith({
      settle: async () => 2n,
      processBatch: async (b) => (seen.push(b.messages.map((m) => m.offset)), emptyReport()),
    });
    await attempts.process(
      batch,
      async () => undefined,
      () => true,
    );
    expect(seen).toEqual([['2']]);
  });

  it('gives the batch up (undefined) when the partition stops being this member’s, or a heartbeat says the group moved on', async () => {
    let ours = true;
    const { attempts, switches } = attemptsWith({
      processBatch: async () => {
        ours = false;
        throw new TransientError('MySQL down');
      },
    });
    expect(
      await attempts.process(
        batch,
        async () => undefined,
        () => ours,
      ),
    ).toBeUndefined();
    expect(switches).toEqual([]);
    const stale = attemptsWith({
      processBatch: async () => {
        throw new StaleBatchError('revoked');
      },
    });
    expect(
      await stale.attempts.process(
        batch,
        async () => undefined,
        () => false,
      ),
    ).toBeUndefined();
  });

  it('passes a permanent failure on while the partition is still this member’s, with the fault cleared', async () => {
    const { attempts, faults } = attemptsWith({
      processBatch: async () => {
        throw new PermanentError('a bug');
      },
    });
    await expect(
      attempts.process(
        batch,
        async () => undefined,
        () => true,
      ),
    ).rejects.toThrow('a bug');
    expect(faults.ready).toBe(true);
  });
});
