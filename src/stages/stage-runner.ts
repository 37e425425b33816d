import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../log/logger.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import type { WorkerPool } from '../workers/worker-pool.ts';
import { StaleBatchError } from '../errors.ts';
import { DeadLetterQueue } from './dead-letter.ts';
import { defaultRetryPolicy, retryTransient } from './retry.ts';
import { StageHealth } from './stage-health.ts';

export type StageName = 'extract' | 'load' | 'transform';

/** The records of one partition that one fetch returned, in offset order. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
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

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** What a processor did with a batch: the figures behind the stage's metrics. */
export interface BatchReport {
  /** Records sent to the next topic. */
  produced: number;
  /** Records written to MySQL. */
  written: number;
  /** Why each dead-lettered record of the batch failed (bounded labels). */
  deadLettered: string[];
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
  /** The partitions this member owns after a (re)join; `seek` moves where fetching starts. */
  onAssignment?(owned: TopicPartition[], seek: (partition: number, offset: string) => void): Promise<void>;
  close(): Promise<void>;
}

export interface StageRunnerOptions {
  stage: StageName;
  pipeline: Pipeline;
  inputTopic: string;
  kafka: Kafka;
  processor: BatchProcessor;
  logger: Logger;
  /** The stage's worker pool, when it has one: a saturated pool pauses fetching. */
  pool?: WorkerPool<unknown, unknown>;
  /** Partitions whose batches are processed at the same time. */
  concurrency?: number;
}

/** What a runner reports as it works; metrics and tests subscribe instead of being called from the stages. */
export interface StageEvents {
  /** A batch was processed and its offset committed (`messages` is the fetched batch, not a copy). */
  batch: [{ topic: string; partition: number; messages: readonly KafkaMessage[]; seconds: number; report: BatchReport }];
  /** A transient failure; the batch is retried after `waitMs`. */
  retry: [{ topic: string; partition: number; attempt: number; waitMs: number; error: unknown }];
  /** Fetching paused because the worker pool is saturated (paused: true), or resumed. */
  backpressure: [{ paused: boolean; queue: number }];
  /** The member (re)joined its group with these partitions. */
  rebalance: [{ partitions: number[] }];
}

const rebalanceErrors = new Set(['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'NOT_COORDINATOR']);

function isRebalanceError(error: unknown): boolean {
  return rebalanceErrors.has((error as { type?: string }).type ?? '');
}

export function groupIdOf(pipeline: Pipeline, stage: StageName): string {
  return `kelt.${pipeline.name}.${stage}`;
}

/**
 * Runs a stage as a member of its consumer group: fetches batches per
 * partition, hands each to the stage's processor, retries transient failures
 * with backoff, and commits the partition's offset only after the processor
 * has written (or dead-lettered) every record of the batch.
 */
export class StageRunner {
  readonly groupId: string;
  readonly inputTopic: string;
  readonly events = new EventEmitter<StageEvents>();
  readonly health = new StageHealth();
  private readonly options: StageRunnerOptions;
  private readonly consumer: Consumer;
  private readonly deadLetters: DeadLetterQueue;
  private readonly logger: Logger;
  private running = false;
  /** The processor's work on the latest assignment; batches wait for it (positions must be known first). */
  private assigned: Promise<void> | undefined;
  private readonly crashed: Promise<Error>;
  private crash: (error: Error) => void = () => undefined;
  private crashedFor: Error | undefined;
  /** When the consumer loop last showed life: a fetch, a heartbeat, a join or a finished batch. */
  private lastSignOfLife = performance.now();

  constructor(options: StageRunnerOptions) {
    this.options = options;
    this.groupId = groupIdOf(options.pipeline, options.stage);
    this.inputTopic = options.inputTopic;
    this.logger = options.logger.child({ group: this.groupId });
    this.consumer = options.kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      sessionTimeout: options.pipeline.consumer.sessionTimeoutMs,
      heartbeatInterval: Math.min(3_000, Math.floor(options.pipeline.consumer.sessionTimeoutMs / 3)),
      maxBytesPerPartition: 1_048_576,
      maxWaitTimeInMs: 250,
    });
    this.deadLetters = new DeadLetterQueue(options.pipeline.topics.dlq, options.stage);
    this.crashed = new Promise((resolve) => (this.crash = resolve));
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      this.crashedFor = payload.error;
      this.crash(payload.error);
    });
    const alive = () => (this.lastSignOfLife = performance.now());
    this.consumer.on(this.consumer.events.FETCH_START, alive);
    this.consumer.on(this.consumer.events.HEARTBEAT, alive);
    // A fetch that returned only transaction commit markers never reaches
    // eachBatch (kafkajs resolves it itself); commit past the markers so that
    // the group's position, and its lag, reach the end of the log.
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize > 0 || !this.running) return;
      const offset = (BigInt(payload.lastOffset) + 1n).toString();
      this.consumer
        .commitOffsets([{ topic: payload.topic, partition: payload.partition, offset }])
        .catch((error: unknown) => this.logger.debug({ err: error }, 'committing past commit markers failed; the next batch will'));
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      const topic = options.inputTopic;
      const owned = (payload.memberAssignment[topic] ?? []).map((partition) => ({ topic, partition }));
      const partitions = owned.map((p) => p.partition);
      this.logger.info({ partitions }, 'joined the group');
      this.lastSignOfLife = performance.now();
      this.health.markStarted();
      this.events.emit('rebalance', { partitions });
      this.assigned = this.options.processor.onAssignment?.(owned, (partition, offset) =>
        this.consumer.seek({ topic, partition, offset }),
      );
    });
  }

  async start(): Promise<void> {
    const { inputTopic, concurrency = 4 } = this.options;
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: inputTopic, fromBeginning: true });
    this.running = true;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: concurrency,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (batch.isEmpty() || isStale()) return;
        await this.assigned;
        const started = performance.now();
        const nextOffset = (BigInt(batch.lastOffset()) + 1n).toString();
        const partitionBatch = { topic: batch.topic, partition: batch.partition, messages: batch.messages, nextOffset };
        const faultKey = `${batch.topic}:${batch.partition}`;
        await this.waitForPool(batch.topic);
        let report: BatchReport;
        try {
          report = await retryTransient(
            () => this.options.processor.processBatch(partitionBatch, { heartbeat, deadLetters: this.deadLetters }),
            async (error, attempt, waitMs) => this.onTransientFailure(batch.topic, batch.partition, faultKey, error, attempt, waitMs, heartbeat),
            () => !isRunning() || isStale(),
            defaultRetryPolicy,
            (ms) => this.waitHeartbeating(ms, heartbeat),
          );
        } catch (error) {
          if (!(error instanceof StaleBatchError)) throw error;
          this.logger.info({ partition: batch.partition, reason: error.message }, 'batch abandoned: the partition moved');
          return;
        } finally {
          this.onRecovered(batch.topic, faultKey);
        }
        // Resolving moves kafkajs's fetch position; without it the next fetch
        // returns this batch again (eachBatchAutoResolve is off so that a
        // failed batch is never skipped).
        resolveOffset(batch.lastOffset());
        if (!this.options.processor.commitsOffsets) {
          try {
            await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset }]);
          } catch (error) {
            // The batch is in MySQL with its position, which is what a new
            // owner seeks to; a group that moved on only makes this commit moot.
            if (!isRebalanceError(error)) throw error;
            this.logger.info({ partition: batch.partition, err: error }, 'offset commit refused: the group is rebalancing');
          }
        }
        this.lastSignOfLife = performance.now();
        this.events.emit('batch', {
          topic: batch.topic,
          partition: batch.partition,
          messages: batch.messages,
          seconds: (performance.now() - started) / 1000,
          report,
        });
      },
    });
    this.logger.info({ topic: inputTopic }, 'stage started');
  }

  /**
   * Whether the consumer loop is alive: it has not crashed for good and has
   * fetched, heartbeated or finished a batch within `withinMs`.
   */
  alive(withinMs: number): { alive: boolean; reason?: string } {
    if (this.crashedFor !== undefined) return { alive: false, reason: `consumer crashed: ${this.crashedFor.message}` };
    const quietMs = performance.now() - this.lastSignOfLife;
    if (quietMs > withinMs) return { alive: false, reason: `consumer loop silent for ${Math.round(quietMs / 1000)}s` };
    return { alive: true };
  }

  /** Partitions whose fetching is paused (by a fault or by backpressure). */
  pausedPartitions(): number {
    return this.consumer.paused().reduce((sum, { partitions }) => sum + partitions.length, 0);
  }

  /** Resolves with the error when the consumer has crashed for good (kafkajs gave up restarting it). */
  failed(): Promise<Error> {
    return this.crashed;
  }

  /** Stops fetching, lets in-flight batches finish and commit, then closes the processor. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer.disconnect();
    await this.options.processor.close();
    this.logger.info('stage stopped');
  }

  /** Waits out a backoff while still heartbeating, so that a long outage does not cost the member its partitions. */
  private async waitHeartbeating(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      await sleep(Math.min(1_000, until - Date.now()));
      await heartbeat().catch((error: unknown) => this.logger.debug({ err: error }, 'heartbeat failed while retrying'));
    }
  }

  /**
   * A dependency is failing: stop fetching and report not-ready until the
   * batch goes through; the batch itself is retried with backoff.
   */
  private async onTransientFailure(
    topic: string,
    partition: number,
    faultKey: string,
    error: unknown,
    attempt: number,
    waitMs: number,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    if (this.health.failing === 0) this.consumer.pause([{ topic }]);
    this.health.fault(faultKey, error instanceof Error ? error.message : String(error));
    this.logger.warn({ partition, attempt, waitMs, err: error }, 'transient failure; fetching paused, retrying the batch');
    this.events.emit('retry', { topic, partition, attempt, waitMs, error });
    await heartbeat().catch((heartbeatError: unknown) =>
      this.logger.debug({ err: heartbeatError }, 'heartbeat failed while retrying'),
    );
  }

  private onRecovered(topic: string, faultKey: string): void {
    if (this.health.failing === 0) return;
    this.health.recovered(faultKey);
    if (this.health.failing === 0) {
      this.consumer.resume([{ topic }]);
      this.logger.info('recovered; fetching resumed');
    }
  }

  private async waitForPool(topic: string): Promise<void> {
    const pool = this.options.pool;
    if (pool === undefined || !pool.saturated) return;
    this.consumer.pause([{ topic }]);
    this.events.emit('backpressure', { paused: true, queue: pool.queueSize });
    this.logger.debug({ queue: pool.queueSize }, 'worker pool saturated; fetching paused');
    try {
      await pool.drained();
    } finally {
      this.consumer.resume([{ topic }]);
      this.events.emit('backpressure', { paused: false, queue: pool.queueSize });
    }
  }
}
