import { EventEmitter } from 'node:events';
import type { BatchControls, ConsumerListener, FetchedBatch, GroupConsumer } from '../kafka/group-consumer.ts';
import type { TopicPartition } from '../kafka/records.ts';
import type { Logger } from '../log/logger.ts';
import type { BatchProcessor, PartitionBatch, StageEvents } from './batch-processor.ts';
import type { DeadLetterQueue } from './dead-letter.ts';
import { defaultRetryPolicy, type RetryPolicy } from '../retry/retry.ts';
import { BatchAttempts } from './runner/batch-attempts.ts';
import { FaultTracker } from './runner/fault-tracker.ts';
import { GroupMembership } from './runner/group-membership.ts';
import { Heartbeats, type SendHeartbeat } from './runner/heartbeats.ts';
import { MarkerCommits } from './runner/marker-commits.ts';
import { OffsetCommitter } from './runner/offset-committer.ts';
import { PartitionTurns } from './runner/partition-turns.ts';
import { PauseController } from './runner/pause-controller.ts';
import { PoolBackpressure, type SaturablePool } from './runner/pool-backpressure.ts';

export interface StageRunnerOptions {
  groupId: string;
  inputTopic: string;
  /** The group's session timeout (a member unheard for longer has lost its partitions). */
  sessionTimeoutMs: number;
  /** Builds the group member (the Kafka adapter's, or a fake), reporting to `listener`. */
  consumer: (groupId: string, listener: ConsumerListener) => GroupConsumer;
  processor: BatchProcessor;
  /** Where the processor's dead letters go. */
  deadLetters: DeadLetterQueue;
  logger: Logger;
  /** The stage's worker pool, when it has one: a saturated pool pauses fetching. */
  pool?: SaturablePool;
  /** Partitions whose batches are processed at the same time. */
  concurrency?: number;
  /** Backoff between attempts of a failing batch (and of the work on an assignment). */
  retryPolicy?: RetryPolicy;
}

/**
 * Runs a stage as a member of its consumer group: fetches batches per
 * partition, hands each to the stage's processor, retries transient failures
 * with backoff while the partition is still this member's, and commits the
 * partition's offset only after the processor has written (or dead-lettered)
 * every record of the batch. The guarantees live in its parts (`runner/`):
 * membership and assignment, heartbeats, pauses counted by reason,
 * forward-only offset commits, faults (readiness and liveness), backpressure.
 */
export class StageRunner {
  readonly groupId: string;
  readonly inputTopic: string;
  readonly events = new EventEmitter<StageEvents>();
  readonly faults = new FaultTracker();
  private readonly options: StageRunnerOptions;
  private readonly consumer: GroupConsumer;
  private readonly logger: Logger;
  private readonly membership: GroupMembership;
  private readonly heartbeats: Heartbeats;
  private readonly pauses: PauseController;
  private readonly committer: OffsetCommitter;
  private readonly backpressure: PoolBackpressure;
  private readonly markers: MarkerCommits;
  private readonly attempts: BatchAttempts;
  private readonly turns = new PartitionTurns();
  private readonly policy: RetryPolicy;
  private running = false;
  private readonly crashed: Promise<Error>;
  private crash: (error: Error) => void = () => undefined;

  constructor(options: StageRunnerOptions) {
    this.options = options;
    this.groupId = options.groupId;
    this.inputTopic = options.inputTopic;
    this.policy = options.retryPolicy ?? defaultRetryPolicy;
    this.logger = options.logger.child({ group: this.groupId });
    this.crashed = new Promise((resolve) => (this.crash = resolve));
    this.consumer = options.consumer(this.groupId, {
      joined: (owned) => this.onJoin(owned),
      markersOnly: (topic, partition, nextOffset) => void this.markers.commitPast(topic, partition, nextOffset, this.membership.generation),
      signOfLife: () => this.faults.sign(),
      heartbeat: () => this.heartbeats.heard(),
      crashed: (error, restarting) => (restarting ? this.faults.fault('consumer', `consumer restarting: ${error.message}`) : this.fail(error)),
    });
    this.heartbeats = new Heartbeats({
      sessionTimeoutMs: options.sessionTimeoutMs,
      lost: () => this.membership.lost(),
      logger: this.logger,
    });
    this.pauses = new PauseController(this.consumer);
    this.committer = new OffsetCommitter((topic, partition, offset) => this.consumer.commit(topic, partition, offset), this.logger);
    this.markers = new MarkerCommits({
      processor: options.processor,
      committer: this.committer,
      turns: this.turns,
      stillOurs: (topic, partition, generation) => this.running && this.membership.owns({ topic, partition }, generation),
      policy: this.policy,
      logger: this.logger,
    });
    this.attempts = new BatchAttempts({
      processor: options.processor,
      deadLetters: options.deadLetters,
      committer: this.committer,
      pauses: this.pauses,
      faults: this.faults,
      heartbeats: this.heartbeats,
      policy: this.policy,
      logger: this.logger,
      onRetry: (retry) => this.events.emit('retry', retry),
    });
    this.backpressure = new PoolBackpressure({
      pool: options.pool,
      pauses: this.pauses,
      report: (change) => this.events.emit('backpressure', change),
      logger: this.logger,
    });
    this.membership = new GroupMembership({
      hooks: {
        onAssigned: (owned) =>
          options.processor.onAssignment?.([...owned], (partition, offset) => this.consumer.seek(this.inputTopic, partition, offset)) ??
          Promise.resolve(),
        onAssignmentFault: (error) => this.faults.fault('assignment', `work on the new assignment failing: ${(error as Error).message}`),
        onAssignmentDone: () => this.faults.recovered('assignment'),
        onAssignmentFailed: (error) => {
          this.logger.error({ err: error }, 'work on the new assignment failed for good');
          this.fail(error instanceof Error ? error : new Error(String(error)));
        },
      },
      policy: this.policy,
      logger: this.logger,
    });
  }

  async start(): Promise<void> {
    this.running = true;
    await this.consumer.run(this.inputTopic, this.options.concurrency ?? 4, (batch, controls) => this.onBatch(batch, controls));
    this.logger.info({ topic: this.inputTopic }, 'stage started');
  }

  /** Partitions whose fetching is paused (by a fault or by backpressure). */
  pausedPartitions(): number {
    return this.consumer.pausedPartitions();
  }

  /** Resolves with the error when the stage has failed for good. */
  failed(): Promise<Error> {
    return this.crashed;
  }

  /** Stops fetching, lets in-flight batches finish and commit, then closes the processor. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer.stop();
    await this.options.processor.close();
    this.logger.info('stage stopped');
  }

  private fail(error: Error): void {
    this.faults.crashed(error);
    this.crash(error);
  }

  private onJoin(owned: TopicPartition[]): void {
    const partitions = owned.map((p) => p.partition);
    this.logger.info({ partitions }, 'joined the group');
    this.heartbeats.heard();
    // Not ready until the processor knows where each partition stands.
    this.faults.fault('assignment', 'reading the positions of the new assignment');
    this.faults.recovered('consumer');
    this.committer.joined(this.membership.joined(owned));
    this.faults.markStarted();
    this.events.emit('rebalance', { partitions });
  }

  private async onBatch(fetched: FetchedBatch, controls: BatchControls): Promise<void> {
    const arrived = { ms: Date.now(), at: performance.now() };
    const turn = this.turns.take(fetched.topic, fetched.partition);
    try {
      const send = () => controls.heartbeat();
      if (!(await this.heartbeats.waitBeating(turn.previous, send))) return;
      if (!(await this.heartbeats.waitBeating(this.membership.ready(), send))) return;
      await this.processFetched(fetched, controls, send, arrived);
    } finally {
      turn.end();
    }
  }

  private async processFetched(
    fetched: FetchedBatch,
    controls: BatchControls,
    send: SendHeartbeat,
    arrived: { ms: number; at: number },
  ): Promise<void> {
    const { topic, partition } = fetched;
    const generation = this.membership.generation;
    const stillOurs = () => controls.isRunning() && !controls.isStale() && this.membership.owns({ topic, partition }, generation);
    if (!stillOurs()) return;
    await this.committer.settled(topic, partition);
    const batch: PartitionBatch = { topic, partition, messages: fetched.records, nextOffset: (BigInt(fetched.lastOffset) + 1n).toString() };
    await this.backpressure.waitForRoom(topic);
    const waitedSeconds = (performance.now() - arrived.at) / 1000;
    const report = await this.attempts.process(batch, send, stillOurs);
    if (report === undefined) return;
    controls.resolve(fetched.lastOffset);
    await this.committer.batchDone(batch, generation, this.options.processor.commitsOffsets);
    this.faults.sign();
    const seconds = (performance.now() - arrived.at) / 1000;
    this.events.emit('batch', { topic, partition, messages: fetched.records, seconds, waitedSeconds, fetchedAtMs: arrived.ms, report });
  }
}
