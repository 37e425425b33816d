import { EventEmitter } from 'node:events';
import type { BatchControls, FetchedBatch } from '../kafka/group-consumer.ts';
import type { Logger } from '../log/logger.ts';
import { defaultRetryPolicy, type RetryPolicy } from '../retry/retry.ts';
import type { BatchProcessor, PartitionBatch, StageEvents } from './batch-processor.ts';
import type { DeadLetterQueue } from './dead-letter.ts';
import { BatchAttempts } from './runner/batch-attempts.ts';
import type { FaultTracker } from './runner/fault-tracker.ts';
import { GroupSession, type BatchTurn, type GroupSessionOptions } from './runner/group-session.ts';
import { PoolBackpressure, type SaturablePool } from './runner/pool-backpressure.ts';

/** What a StageRunner works with: the group session it is handed, and what it does with each batch. */
export interface StageRunnerParts {
  session: GroupSession;
  /** Where the runner reports batches, retries and backpressure (the session reports rebalances there too). */
  events: EventEmitter<StageEvents>;
  processor: BatchProcessor;
  /** Where the processor's dead letters go. */
  deadLetters: DeadLetterQueue;
  logger: Logger;
  /** The stage's worker pool, when it has one: a saturated pool pauses fetching. */
  pool?: SaturablePool;
  /** Partitions whose batches are processed at the same time. */
  concurrency?: number;
  /** Backoff between attempts of a failing batch. */
  retryPolicy?: RetryPolicy;
}

/**
 * Runs a stage in its group session: each fetched batch, in its partition's
 * turn, goes to the stage's processor; transient failures are retried with
 * backoff while the partition is still this member's; the partition's offset
 * is committed only after the processor has written (or dead-lettered) every
 * record of the batch. Membership, heartbeats, pauses and commits are the
 * session's (`runner/group-session.ts`).
 */
export class StageRunner {
  readonly groupId: string;
  readonly inputTopic: string;
  readonly events: EventEmitter<StageEvents>;
  readonly faults: FaultTracker;
  private readonly parts: StageRunnerParts;
  private readonly session: GroupSession;
  private readonly logger: Logger;
  private readonly backpressure: PoolBackpressure;
  private readonly attempts: BatchAttempts;

  constructor(parts: StageRunnerParts) {
    this.parts = parts;
    this.session = parts.session;
    this.groupId = parts.session.groupId;
    this.inputTopic = parts.session.inputTopic;
    this.events = parts.events;
    this.faults = parts.session.faults;
    this.logger = parts.logger;
    this.attempts = new BatchAttempts({
      processor: parts.processor,
      deadLetters: parts.deadLetters,
      session: parts.session,
      policy: parts.retryPolicy ?? defaultRetryPolicy,
      logger: this.logger,
      onRetry: (retry) => this.events.emit('retry', retry),
    });
    this.backpressure = new PoolBackpressure({
      pool: parts.pool,
      pauses: parts.session.pauses,
      report: (change) => this.events.emit('backpressure', change),
      logger: this.logger,
    });
  }

  async start(): Promise<void> {
    await this.session.start(this.parts.concurrency ?? 4, (fetched, controls) => this.onBatch(fetched, controls));
    this.logger.info({ topic: this.inputTopic }, 'stage started');
  }

  /** Partitions whose fetching is paused (by a fault or by backpressure). */
  pausedPartitions(): number {
    return this.session.pausedPartitions();
  }

  /** Resolves with the error when the stage has failed for good. */
  failed(): Promise<Error> {
    return this.session.failed();
  }

  /** Stops fetching, lets in-flight batches finish and commit, then closes the processor. */
  async stop(): Promise<void> {
    if (!(await this.session.stop())) return;
    await this.parts.processor.close();
    this.logger.info('stage stopped');
  }

  private async onBatch(fetched: FetchedBatch, controls: BatchControls): Promise<void> {
    const arrived = { ms: Date.now(), at: performance.now() };
    await this.session.inTurn(fetched, controls, (turn) => this.process(fetched, controls, turn, arrived));
  }

  /** fetch → attempt → commit. */
  private async process(fetched: FetchedBatch, controls: BatchControls, turn: BatchTurn, arrived: { ms: number; at: number }): Promise<void> {
    const { topic, partition } = fetched;
    const { committer } = this.session;
    await committer.settled(topic, partition);
    const batch: PartitionBatch = { topic, partition, messages: fetched.records, nextOffset: (BigInt(fetched.lastOffset) + 1n).toString() };
    await this.backpressure.waitForRoom(topic);
    const waitedSeconds = (performance.now() - arrived.at) / 1000;
    const report = await this.attempts.process(batch, turn.heartbeat, turn.stillOurs);
    if (report === undefined) return;
    controls.resolve(fetched.lastOffset);
    await committer.batchDone(batch, turn.generation, this.parts.processor.commitsOffsets);
    this.faults.sign();
    const seconds = (performance.now() - arrived.at) / 1000;
    this.events.emit('batch', { topic, partition, messages: fetched.records, seconds, waitedSeconds, fetchedAtMs: arrived.ms, report });
  }
}

/** What a stage runner is built from: its group session's settings and its own. */
export type StageRunnerOptions = Omit<GroupSessionOptions, 'policy' | 'events'> & Omit<StageRunnerParts, 'session' | 'events'>;

/** Builds a stage's group session, then its runner in that session. */
export function stageRunner(options: StageRunnerOptions): StageRunner {
  const events = new EventEmitter<StageEvents>();
  const logger = options.logger.child({ group: options.groupId });
  const policy = options.retryPolicy ?? defaultRetryPolicy;
  const session = new GroupSession({ ...options, policy, logger, events });
  return new StageRunner({ ...options, session, events, logger, retryPolicy: policy });
}
