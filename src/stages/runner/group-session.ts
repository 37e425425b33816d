import type { EventEmitter } from 'node:events';
import type { BatchControls, ConsumerListener, FetchedBatch, GroupConsumer } from '../../kafka/group-consumer.ts';
import type { TopicPartition } from '../../kafka/records.ts';
import type { Logger } from '../../log/logger.ts';
import type { RetryPolicy } from '../../retry/retry.ts';
import type { BatchProcessor, StageEvents } from '../batch-processor.ts';
import { FaultTracker } from './fault-tracker.ts';
import { GroupMembership } from './group-membership.ts';
import { Heartbeats, type SendHeartbeat } from './heartbeats.ts';
import { MarkerCommits } from './marker-commits.ts';
import { OffsetCommitter } from './offset-committer.ts';
import { PartitionTurns } from './partition-turns.ts';
import { PauseController } from './pause-controller.ts';

export interface GroupSessionOptions {
  groupId: string;
  inputTopic: string;
  /** The group's session timeout (a member unheard for longer has lost its partitions). */
  sessionTimeoutMs: number;
  /** Builds the group member (the Kafka adapter's, or a fake), reporting to `listener`. */
  consumer: (groupId: string, listener: ConsumerListener) => GroupConsumer;
  /** What the session asks of the stage's processor: its work on a new assignment, and moving past marker-only ranges. */
  processor: Pick<BatchProcessor, 'onAssignment' | 'commitPast'>;
  policy: RetryPolicy;
  logger: Logger;
  /** Where the session reports a (re)join. */
  events: EventEmitter<StageEvents>;
}

/** A fetched batch's place in the session: whose generation it belongs to, and how to keep the member alive while it runs. */
export interface BatchTurn {
  generation: number;
  /** Whether the partition is still this member's, in the batch's generation, and the fetch not stale. */
  stillOurs: () => boolean;
  heartbeat: SendHeartbeat;
}

/**
 * A stage's membership of its consumer group, for as long as it runs: the
 * member, its assignment and the processor's work on it, heartbeats, pauses
 * counted by reason, forward-only offset commits, each partition's turn, and
 * the faults readiness and liveness report. The runner is handed a session
 * (kafkajs hands its runner a consumer group that is already built) and
 * only processes and commits batches in it.
 */
export class GroupSession {
  readonly groupId: string;
  readonly inputTopic: string;
  readonly faults = new FaultTracker();
  readonly heartbeats: Heartbeats;
  readonly pauses: PauseController;
  readonly committer: OffsetCommitter;
  private readonly consumer: GroupConsumer;
  private readonly membership: GroupMembership;
  private readonly markers: MarkerCommits;
  private readonly turns = new PartitionTurns();
  private readonly options: GroupSessionOptions;
  private readonly logger: Logger;
  private running = false;
  private readonly crashed: Promise<Error>;
  private crash: (error: Error) => void = () => undefined;

  constructor(options: GroupSessionOptions) {
    this.options = options;
    this.groupId = options.groupId;
    this.inputTopic = options.inputTopic;
    this.logger = options.logger;
    this.crashed = new Promise((resolve) => (this.crash = resolve));
    this.consumer = options.consumer(this.groupId, {
      joined: (owned) => this.onJoin(owned),
      markersOnly: (topic, partition, nextOffset) => void this.markers.commitPast(topic, partition, nextOffset, this.membership.generation),
      signOfLife: () => this.faults.sign(),
      heartbeat: () => {
        this.heartbeats.heard();
        if (this.membership.confirmed())
          this.logger.info('a heartbeat went through after the member was taken for lost: its partitions are its own again');
      },
      crashed: (error, restarting) => (restarting ? this.faults.fault('consumer', `consumer restarting: ${error.message}`) : this.fail(error)),
    });
    this.heartbeats = new Heartbeats({ sessionTimeoutMs: options.sessionTimeoutMs, lost: () => this.membership.lost(), logger: this.logger });
    this.pauses = new PauseController(this.consumer);
    this.committer = new OffsetCommitter((topic, partition, offset) => this.consumer.commit(topic, partition, offset), this.logger);
    this.markers = new MarkerCommits({
      processor: options.processor,
      committer: this.committer,
      turns: this.turns,
      stillOurs: (topic, partition, generation) => this.running && this.membership.owns({ topic, partition }, generation),
      policy: options.policy,
      logger: this.logger,
    });
    this.membership = this.membershipOf(options);
  }

  /** Joins the group and hands each fetched batch to `handle`, `concurrency` partitions at a time. */
  async start(concurrency: number, handle: (fetched: FetchedBatch, controls: BatchControls) => Promise<void>): Promise<void> {
    this.running = true;
    await this.consumer.run(this.inputTopic, concurrency, handle);
  }

  /** Leaves the group once the batches in flight are done. */
  async stop(): Promise<boolean> {
    if (!this.running) return false;
    this.running = false;
    await this.consumer.stop();
    return true;
  }

  /** Partitions whose fetching is paused (by a fault or by backpressure). */
  pausedPartitions(): number {
    return this.consumer.pausedPartitions();
  }

  /** Resolves with the error when the session has failed for good. */
  failed(): Promise<Error> {
    return this.crashed;
  }

  /**
   * Runs `work` in the partition's turn (after its previous batch), once the
   * assignment's work is done, heartbeating through both waits; skips it when
   * the partition stopped being this member's meanwhile.
   */
  async inTurn(fetched: FetchedBatch, controls: BatchControls, work: (turn: BatchTurn) => Promise<void>): Promise<void> {
    const turn = this.turns.take(fetched.topic, fetched.partition);
    try {
      const heartbeat = () => controls.heartbeat();
      if (!(await this.heartbeats.waitBeating(turn.previous, heartbeat))) return;
      if (!(await this.heartbeats.waitBeating(this.membership.ready(), heartbeat))) return;
      const generation = this.membership.generation;
      const partition = { topic: fetched.topic, partition: fetched.partition };
      const stillOurs = () => controls.isRunning() && !controls.isStale() && this.membership.owns(partition, generation);
      if (stillOurs()) await work({ generation, stillOurs, heartbeat });
    } finally {
      turn.end();
    }
  }

  private membershipOf({ processor, policy }: GroupSessionOptions): GroupMembership {
    return new GroupMembership({
      hooks: {
        onAssigned: (owned) =>
          processor.onAssignment?.([...owned], (partition, offset) => this.consumer.seek(this.inputTopic, partition, offset)) ?? Promise.resolve(),
        onAssignmentFault: (error) => this.faults.fault('assignment', `work on the new assignment failing: ${(error as Error).message}`),
        onAssignmentDone: () => this.faults.recovered('assignment'),
        onAssignmentFailed: (error) => {
          this.logger.error({ err: error }, 'work on the new assignment failed for good');
          this.fail(error instanceof Error ? error : new Error(String(error)));
        },
      },
      policy,
      logger: this.logger,
    });
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
    this.options.events.emit('rebalance', { partitions });
  }
}
