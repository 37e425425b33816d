import { isRetriable } from '../../kafka/errors.ts';
import type { Logger } from '../../log/logger.ts';
import { retryTransient, type RetryPolicy } from '../../retry/retry.ts';
import type { BatchProcessor } from '../batch-processor.ts';
import type { OffsetCommitter } from './offset-committer.ts';
import type { PartitionTurns } from './partition-turns.ts';

export interface MarkerCommitsOptions {
  processor: Pick<BatchProcessor, 'commitPast'>;
  committer: OffsetCommitter;
  turns: PartitionTurns;
  /** Whether the partition is still this member's in `generation`, and the stage still running. */
  stillOurs: (topic: string, partition: number, generation: number) => boolean;
  policy: RetryPolicy;
  logger: Logger;
}

/**
 * Moves the group past a fetched range with nothing to process (transaction
 * commit markers, aborted records), so that its lag reaches 0: kafkajs never
 * hands that range out again, and a partition that receives nothing more
 * would keep a lag for good. A processor that commits offsets in
 * transactions does it through its own transactions, in the partition's
 * turn after the batches before; any other through the committer. A failure
 * leaves it to the partition's next batch.
 */
export class MarkerCommits {
  private readonly options: MarkerCommitsOptions;

  constructor(options: MarkerCommitsOptions) {
    this.options = options;
  }

  async commitPast(topic: string, partition: number, nextOffset: string, generation: number): Promise<void> {
    const { processor, committer, turns, policy, logger } = this.options;
    const commitPast = processor.commitPast?.bind(processor);
    if (commitPast === undefined) return committer.commitPastMarkers(topic, partition, nextOffset, generation);
    const turn = turns.take(topic, partition);
    const given = () => !this.options.stillOurs(topic, partition, generation);
    try {
      await turn.previous;
      if (given()) return;
      await retryTransient(() => commitPast(topic, partition, nextOffset), {
        isRetriable,
        onRetry: (error, attempt, waitMs) =>
          logger.debug({ partition, attempt, waitMs, err: error }, 'committing past commit markers failed; retrying'),
        shouldStop: given,
        policy,
      });
      committer.committedInTransaction(topic, partition, nextOffset);
    } catch (error) {
      logger.info({ partition, err: error }, 'committing past commit markers given up; the partition’s next batch commits past them');
    } finally {
      turn.end();
    }
  }
}
