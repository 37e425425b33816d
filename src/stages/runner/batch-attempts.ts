import { isRetriable } from '../../kafka/errors.ts';
import { StaleBatchError } from '../../errors.ts';
import type { Logger } from '../../log/logger.ts';
import { retryTransient, type RetryPolicy } from '../../retry/retry.ts';
import { emptyReport, type BatchProcessor, type BatchReport, type PartitionBatch, type StageEvents } from '../batch-processor.ts';
import type { DeadLetterQueue } from '../dead-letter.ts';
import type { GroupSession } from './group-session.ts';
import type { SendHeartbeat } from './heartbeats.ts';

export interface BatchAttemptsOptions {
  processor: BatchProcessor;
  deadLetters: DeadLetterQueue;
  /** The session's commits, pauses, faults and heartbeats. */
  session: Pick<GroupSession, 'committer' | 'pauses' | 'faults' | 'heartbeats'>;
  policy: RetryPolicy;
  logger: Logger;
  onRetry: (retry: StageEvents['retry'][0]) => void;
}

/**
 * A batch's attempts: the records not committed yet go to the processor;
 * a transient failure pauses the partition's topic, reports the fault and
 * is retried with backoff, heartbeating through each wait, for as long as
 * the partition is this member's.
 */
export class BatchAttempts {
  private readonly options: BatchAttemptsOptions;

  constructor(options: BatchAttemptsOptions) {
    this.options = options;
  }

  /** The batch's report, or undefined when it was given up because the partition is no longer this member's. */
  async process(batch: PartitionBatch, heartbeat: SendHeartbeat, stillOurs: () => boolean): Promise<BatchReport | undefined> {
    const { processor, deadLetters, session, policy, logger, onRetry } = this.options;
    const { committer, pauses, faults, heartbeats } = session;
    const { topic, partition } = batch;
    const abilities = { heartbeat: () => heartbeats.beat(heartbeat), deadLetters };
    const faultKey = `${topic}:${partition}`;
    let releasePause: (() => void) | undefined;
    try {
      return await retryTransient(
        async () => {
          const todo = await committer.uncommitted(batch, processor.settle?.bind(processor));
          return todo === undefined ? emptyReport() : processor.processBatch(todo, abilities);
        },
        {
          isRetriable,
          onRetry: (error, attempt, waitMs) => {
            releasePause ??= pauses.hold(topic, `fault ${faultKey}`);
            faults.fault(faultKey, error instanceof Error ? error.message : String(error));
            logger.warn({ partition, attempt, waitMs, err: error }, 'transient failure; fetching paused, retrying the batch');
            onRetry({ topic, partition, attempt, waitMs, error });
          },
          shouldStop: () => !stillOurs(),
          policy,
          wait: (ms) => heartbeats.waitBeating(ms, heartbeat, stillOurs),
        },
      );
    } catch (error) {
      if (!(error instanceof StaleBatchError) && stillOurs()) throw error;
      logger.info({ partition, reason: (error as Error).message }, 'batch abandoned: the partition is no longer this member’s to process');
      return undefined;
    } finally {
      if (releasePause !== undefined) {
        releasePause();
        logger.info({ partition }, 'recovered; fetching resumed');
      }
      faults.recovered(faultKey);
    }
  }
}
