import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { StaleBatchError } from '../errors.ts';
import { isRebalanceError } from '../kafka/errors.ts';
import type { BatchControls, ConsumerListener, FetchedBatch, GroupConsumer } from '../kafka/group-consumer.ts';
import type { ConsumedRecord, TopicPartition } from '../kafka/records.ts';
import type { RecordLimitOf } from '../kafka/topic-limits.ts';
import type { Logger } from '../log/logger.ts';
import type { BreakerSettings, Pipeline } from '../pipeline/spec.ts';
import { groupIdOf, type StageName } from '../pipeline/topology.ts';
import type { WorkerPool } from '../worker-threads/worker-pool.ts';
import { DeadLetterQueue } from './dead-letter.ts';
import { DeadLetterBreaker } from './dead-letter-breaker.ts';
import { defaultRetryPolicy, retryTransient } from './retry.ts';
import { GroupMembership } from './runner/group-membership.ts';
import { PartitionTurns } from './runner/partition-turns.ts';
import { Liveness } from './runner/liveness.ts';
import { OffsetCommitter } from './runner/offset-committer.ts';
import { PauseController } from './runner/pause-controller.ts';
import { StageHealth } from './stage-health.ts';

export type { TopicPartition };

/** The records of one partition that one fetch returned, in offset order. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: ConsumedRecord[];
  /**
   * Where the group's position goes once the batch is done: past its last
   * record and past any transaction commit markers that followed it.
   */
  nextOffset: string;
}

/** What a processor may do while it works on a batch (kafkajs's runner hands out the same kind of narrow interface). */
export interface BatchAbilities {
  heartbeat(): Promise<void>;
  deadLetters: DeadLetterQueue;
}

/** What a processor did with a batch: the figures behind the stage's metrics. */
export interface BatchReport {
  /** Records sent to the next topic. */
  produced: number;
  /**
   * Records of the batch that are in MySQL, counting those an earlier attempt
   * wrote: a batch is reported only once its Kafka transaction commits, so
   * rows whose Kafka half failed before are counted by the attempt that ends it.
   */
  written: number;
  /** Why each dead-lettered record of the batch failed (bounded labels). */
  deadLettered: string[];
  /** Records skipped as repeats of records applied before (the same origin, forwarded twice upstream). */
  repeated?: number;
  /** Time spent writing to MySQL, when the stage writes there. */
  mysqlSeconds?: number;
}

export const emptyReport = (): BatchReport => ({ produced: 0, written: 0, deadLettered: [] });

/** One stage's work on a batch. When it returns, every record is written or dead-lettered. */
export interface BatchProcessor {
  /**
   * Whether the processor commits the group's offsets itself, in a Kafka
   * transaction with its output. Otherwise the runner commits them once the
   * batch is processed.
   */
  readonly commitsOffsets: boolean;
  processBatch(batch: PartitionBatch, abilities: BatchAbilities): Promise<BatchReport>;
  /**
   * For a processor that commits offsets in transactions: the group's
   * committed offset of the partition, settled against other members'
   * transactions and this one's unanswered commits. It can lie past the
   * fetched batch's start (a transaction landed after the records were
   * fetched again); the runner drops the records below it.
   */
  settle?(topic: string, partition: number): Promise<bigint | undefined>;
  /**
   * For a processor that commits offsets in transactions: moves the group's
   * offset past a range with nothing to process (a fetch that held only
   * transaction markers or aborted records), in a transaction of the
   * partition's, so that no commit outside them can move the group back.
   */
  commitPast?(topic: string, partition: number, nextOffset: string): Promise<void>;
  /** The partitions this member owns after a (re)join; `seek` moves where fetching starts. */
  onAssignment?(owned: TopicPartition[], seek: (partition: number, offset: string) => void): Promise<void>;
  close(): Promise<void>;
}

export interface StageRunnerOptions {
  stage: StageName;
  pipeline: Pipeline;
  inputTopic: string;
  /** Builds the group member (the Kafka adapter's, or a fake), reporting to `listener`. */
  consumer: (groupId: string, listener: ConsumerListener) => GroupConsumer;
  processor: BatchProcessor;
  logger: Logger;
  /** The stage's worker pool, when it has one: a saturated pool pauses fetching. */
  pool?: Pick<WorkerPool<unknown, unknown>, 'saturated' | 'queueSize' | 'drained'>;
  /** Partitions whose batches are processed at the same time. */
  concurrency?: number;
  /** Topics' max.message.bytes (a dead letter over the DLQ's goes without its value). */
  recordLimitOf?: RecordLimitOf;
  /** When dead letters are a flood the stage holds instead (none: every dead letter goes). */
  deadLetterBreaker?: BreakerSettings;
  /** Backoff between attempts of a failing batch (and of the work on an assignment). */
  retryPolicy?: typeof defaultRetryPolicy;
}

/** What a runner reports as it works; metrics and tests subscribe instead of being called from the stages. */
export interface StageEvents {
  /** A batch was processed and its offset committed (`messages` is the fetched batch, not a copy). */
  batch: [{ topic: string; partition: number; messages: readonly ConsumedRecord[]; seconds: number; report: BatchReport }];
  /** A transient failure; the batch is retried after `waitMs`. */
  retry: [{ topic: string; partition: number; attempt: number; waitMs: number; error: unknown }];
  /** Fetching paused because the worker pool is saturated (paused: true), or resumed. */
  backpressure: [{ paused: boolean; queue: number }];
  /** The member (re)joined its group with these partitions. */
  rebalance: [{ partitions: number[] }];
}


/**
 * Runs a stage as a member of its consumer group: fetches batches per
 * partition, hands each to the stage's processor, retries transient failures
 * with backoff while the partition is still this member's, and commits the
 * partition's offset only after the processor has written (or dead-lettered)
 * every record of the batch. The guarantees live in its parts (`runner/`):
 * membership and assignment, pauses counted by reason, forward-only offset
 * commits, liveness.
 */
export class StageRunner {
  readonly groupId: string;
  readonly inputTopic: string;
  readonly events = new EventEmitter<StageEvents>();
  readonly health = new StageHealth();
  private readonly options: StageRunnerOptions;
  private readonly consumer: GroupConsumer;
  private readonly deadLetters: DeadLetterQueue;
  private readonly logger: Logger;
  private readonly membership: GroupMembership;
  private readonly pauses: PauseController;
  private readonly committer: OffsetCommitter;
  private readonly liveness = new Liveness();
  private readonly turns = new PartitionTurns();
  private readonly policy: typeof defaultRetryPolicy;
  private running = false;
  /** When the group coordinator last accepted a heartbeat of this member. */
  private lastHeartbeat = Date.now();
  private readonly crashed: Promise<Error>;
  private crash: (error: Error) => void = () => undefined;

  constructor(options: StageRunnerOptions) {
    this.options = options;
    this.groupId = groupIdOf(options.pipeline, options.stage);
    this.inputTopic = options.inputTopic;
    this.policy = options.retryPolicy ?? defaultRetryPolicy;
    this.logger = options.logger.child({ group: this.groupId });
    this.deadLetters = new DeadLetterQueue(
      options.pipeline.topics.dlq,
      options.stage,
      options.recordLimitOf,
      options.deadLetterBreaker === undefined ? undefined : new DeadLetterBreaker(options.deadLetterBreaker),
    );
    this.crashed = new Promise((resolve) => (this.crash = resolve));
    this.consumer = options.consumer(this.groupId, {
      joined: (owned) => this.onJoin(owned),
      markersOnly: (topic, partition, nextOffset) => void this.onMarkersOnly(topic, partition, nextOffset),
      signOfLife: () => this.liveness.sign(),
      heartbeat: () => (this.lastHeartbeat = Date.now()),
      crashed: (error, restarting) => {
        if (restarting) {
          this.liveness.outage('consumer');
          return;
        }
        this.liveness.crashed(error);
        this.crash(error);
      },
    });
    this.pauses = new PauseController(this.consumer);
    this.committer = new OffsetCommitter((topic, partition, offset) => this.consumer.commit(topic, partition, offset), this.logger);
    this.membership = new GroupMembership(
      {
        onAssigned: async (owned) => {
          await this.options.processor.onAssignment?.([...owned], (partition, offset) =>
            this.consumer.seek(this.inputTopic, partition, offset),
          );
        },
        onAssignmentFault: (error) => {
          this.health.fault('assignment', `work on the new assignment failing: ${(error as Error).message}`);
          this.liveness.outage('assignment');
        },
        onAssignmentDone: () => {
          this.health.recovered('assignment');
          this.liveness.recovered('assignment');
        },
        onAssignmentFailed: (error) => {
          const failure = error instanceof Error ? error : new Error(String(error));
          this.logger.error({ err: failure }, 'work on the new assignment failed for good');
          this.liveness.crashed(failure);
          this.crash(failure);
        },
      },
      this.policy,
      this.logger,
    );
  }

  async start(): Promise<void> {
    const { inputTopic, concurrency = 4 } = this.options;
    this.running = true;
    await this.consumer.run(inputTopic, concurrency, (batch, controls) => this.onBatch(batch, controls));
    this.logger.info({ topic: inputTopic }, 'stage started');
  }

  /** Whether the consumer loop is alive (see Liveness). */
  alive(withinMs: number): { alive: boolean; reason?: string } {
    return this.liveness.state(withinMs);
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

  private onJoin(owned: TopicPartition[]): void {
    const partitions = owned.map((p) => p.partition);
    this.logger.info({ partitions }, 'joined the group');
    this.lastHeartbeat = Date.now();
    // Not ready until the processor knows where each partition stands.
    this.health.fault('assignment', 'reading the positions of the new assignment');
    const generation = this.membership.joined(owned);
    this.committer.joined(generation);
    this.liveness.recovered('consumer');
    this.health.markStarted();
    this.events.emit('rebalance', { partitions });
  }

  /**
   * A fetch returned nothing to process up to `nextOffset`: the group moves
   * past it, so that its lag reaches 0. A processor that commits offsets in
   * transactions does it in its turn, after the partition's batches before
   * it, through its own transactions; a failure leaves it to the next batch.
   */
  private async onMarkersOnly(topic: string, partition: number, nextOffset: string): Promise<void> {
    const generation = this.membership.generation;
    const commitPast = this.options.processor.commitPast?.bind(this.options.processor);
    if (commitPast === undefined) {
      this.committer.commitPastMarkers(topic, partition, nextOffset, generation);
      return;
    }
    const turn = this.turns.take(topic, partition);
    const given = () => !this.running || !this.membership.owns({ topic, partition }, generation);
    try {
      await turn.previous;
      if (given()) return;
      // kafkajs never hands this range out again: if nothing commits past it,
      // a partition that receives nothing more keeps a lag for good.
      await retryTransient(
        () => commitPast(topic, partition, nextOffset),
        (error, attempt, waitMs) => this.logger.debug({ partition, attempt, waitMs, err: error }, 'committing past commit markers failed; retrying'),
        given,
        this.policy,
      );
      this.committer.committedInTransaction(topic, partition, nextOffset);
    } catch (error) {
      this.logger.info({ partition, err: error }, 'committing past commit markers given up; the partition’s next batch commits past them');
    } finally {
      turn.end();
    }
  }

  private async onBatch(fetched: FetchedBatch, controls: BatchControls): Promise<void> {
    const turn = this.turns.take(fetched.topic, fetched.partition);
    try {
      if (!(await this.heartbeatingUntil(turn.previous, controls))) return;
      await this.processFetched(fetched, controls);
    } finally {
      turn.end();
    }
  }

  private async processFetched(fetched: FetchedBatch, controls: BatchControls): Promise<void> {
    const { topic, partition } = fetched;
    if (!(await this.heartbeatingUntil(this.membership.ready(), controls))) return;
    const generation = this.membership.generation;
    const stillOurs = () => controls.isRunning() && !controls.isStale() && this.membership.owns({ topic, partition }, generation);
    if (!stillOurs()) return;
    await this.committer.settled(topic, partition);
    const started = performance.now();
    const nextOffset = (BigInt(fetched.lastOffset) + 1n).toString();
    const batch: PartitionBatch = { topic, partition, messages: fetched.records, nextOffset };
    await this.waitForPool(topic);
    const heartbeat = () => this.heartbeat(controls);
    let releaseFault: (() => void) | undefined;
    const faultKey = `${topic}:${partition}`;
    let report: BatchReport;
    try {
      report = await retryTransient(
        async () => {
          const committed = await this.options.processor.settle?.(topic, partition);
          if (committed === undefined || BigInt(batch.messages[0]!.offset) >= committed) {
            return this.options.processor.processBatch(batch, { heartbeat, deadLetters: this.deadLetters });
          }
          this.committer.committedInTransaction(topic, partition, committed.toString());
          const rest = batch.messages.filter((message) => BigInt(message.offset) >= committed);
          this.logger.info({ partition, from: batch.messages[0]!.offset, committed: committed.toString() }, 'records fetched again are committed already; skipped');
          if (rest.length === 0) return emptyReport();
          return this.options.processor.processBatch({ ...batch, messages: rest }, { heartbeat, deadLetters: this.deadLetters });
        },
        async (error, attempt, waitMs) => {
          releaseFault ??= this.pauses.hold(topic, `fault ${faultKey}`);
          this.health.fault(faultKey, error instanceof Error ? error.message : String(error));
          this.liveness.outage(faultKey);
          this.logger.warn({ partition, attempt, waitMs, err: error }, 'transient failure; fetching paused, retrying the batch');
          this.events.emit('retry', { topic, partition, attempt, waitMs, error });
        },
        () => !stillOurs(),
        this.policy,
        (ms) => this.waitHeartbeating(ms, controls, stillOurs),
      );
    } catch (error) {
      if (!(error instanceof StaleBatchError) && stillOurs()) throw error;
      this.logger.info({ partition, reason: (error as Error).message }, 'batch abandoned: the partition is no longer this member’s to process');
      return;
    } finally {
      if (releaseFault !== undefined) {
        releaseFault();
        this.logger.info({ partition }, 'recovered; fetching resumed');
      }
      this.health.recovered(faultKey);
      this.liveness.recovered(faultKey);
    }
    controls.resolve(fetched.lastOffset);
    if (this.options.processor.commitsOffsets) {
      this.committer.committedInTransaction(topic, partition, nextOffset);
    } else {
      try {
        await this.committer.commit(topic, partition, nextOffset, generation);
      } catch (error) {
        // The batch is in MySQL with its position, which is what a new
        // owner seeks to; a group that moved on only makes this commit moot.
        if (!isRebalanceError(error)) throw error;
        this.logger.info({ partition, err: error }, 'offset commit refused: the group is rebalancing');
      }
    }
    this.liveness.sign();
    this.events.emit('batch', { topic, partition, messages: fetched.records, seconds: (performance.now() - started) / 1000, report });
  }

  /**
   * Heartbeats for a processor. A refused heartbeat means the group has moved
   * on: this member owns nothing until it rejoins, so the batch stops.
   */
  private async heartbeat(controls: BatchControls): Promise<void> {
    try {
      await controls.heartbeat();
      this.lastHeartbeat = Date.now();
    } catch (error) {
      if (isRebalanceError(error)) {
        this.membership.lost();
        throw new StaleBatchError('the group is rebalancing; this member’s partitions are revoked', { cause: error });
      }
      // Unheard for longer than the session, the member has been removed by
      // the coordinator whether or not it can tell us so: its partitions may
      // be another member's, which must not be fenced by this one's retries.
      if (Date.now() - this.lastHeartbeat > this.options.pipeline.consumer.sessionTimeoutMs) {
        this.membership.lost();
        throw new StaleBatchError('no heartbeat reached the group coordinator within the session timeout', { cause: error });
      }
      throw error;
    }
  }

  /**
   * Waits for `settled` (the processor's work on the current assignment,
   * which retries while MySQL is down; the partition's previous batch),
   * heartbeating meanwhile so that the member keeps its place in the group.
   * False when the group moved on during the wait.
   */
  private async heartbeatingUntil(settled: Promise<unknown>, controls: BatchControls): Promise<boolean> {
    let done = false;
    const finished = settled.then(() => (done = true));
    while (!done) {
      await Promise.race([finished, sleep(1_000)]);
      if (done) break;
      try {
        await this.heartbeat(controls);
      } catch (error) {
        if (error instanceof StaleBatchError) return false;
        this.logger.debug({ err: error }, 'heartbeat failed while waiting');
      }
    }
    return true;
  }

  /**
   * Waits out a backoff while still heartbeating, so that a long outage does
   * not cost the member its partitions; stops early once the partition is no
   * longer this member's (the retry loop then gives the batch up).
   */
  private async waitHeartbeating(ms: number, controls: BatchControls, stillOurs: () => boolean): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && stillOurs()) {
      await sleep(Math.min(1_000, until - Date.now()));
      try {
        await this.heartbeat(controls);
      } catch (error) {
        if (error instanceof StaleBatchError) return;
        // The coordinator is away too (a broker outage): the session may
        // still outlast it, and the next heartbeat tries again.
        this.logger.debug({ err: error }, 'heartbeat failed while waiting to retry');
      }
    }
  }

  private async waitForPool(topic: string): Promise<void> {
    const pool = this.options.pool;
    if (pool === undefined || !pool.saturated) return;
    const release = this.pauses.hold(topic, 'backpressure');
    this.events.emit('backpressure', { paused: true, queue: pool.queueSize });
    this.logger.debug({ queue: pool.queueSize }, 'worker pool saturated; fetching paused');
    try {
      await pool.drained();
    } finally {
      release();
      this.events.emit('backpressure', { paused: false, queue: pool.queueSize });
    }
  }
}
