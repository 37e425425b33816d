import { EventEmitter } from 'node:events';
import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from '../log/logger.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import type { WorkerPool } from '../workers/worker-pool.ts';
import { DeadLetterQueue } from './dead-letter.ts';
import { retryTransient } from './retry.ts';

export type StageName = 'extract' | 'load' | 'transform';

/** The records of one partition that one fetch returned, in offset order. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}

/** What a processor may do while it works on a batch (kafkajs's runner hands out the same kind of narrow interface). */
export interface BatchAbilities {
  heartbeat(): Promise<void>;
  deadLetters: DeadLetterQueue;
}

/** One stage's work on a batch. When it returns, every record is written or dead-lettered. */
export interface BatchProcessor {
  processBatch(batch: PartitionBatch, abilities: BatchAbilities): Promise<void>;
  close(): Promise<void>;
}

export interface StageRunnerOptions {
  stage: StageName;
  pipeline: Pipeline;
  inputTopic: string;
  kafka: Kafka;
  producer: Producer;
  processor: BatchProcessor;
  logger: Logger;
  /** The stage's worker pool, when it has one: a saturated pool pauses fetching. */
  pool?: WorkerPool<unknown, unknown>;
  /** Partitions whose batches are processed at the same time. */
  concurrency?: number;
}

/** What a runner reports as it works; metrics and tests subscribe instead of being called from the stages. */
export interface StageEvents {
  /** A batch was processed and its offset committed. */
  batch: [{ topic: string; partition: number; firstOffset: string; lastOffset: string; records: number; keys: string[]; seconds: number }];
  /** A transient failure; the batch is retried after `waitMs`. */
  retry: [{ topic: string; partition: number; attempt: number; waitMs: number; error: unknown }];
  /** Fetching paused because the worker pool is saturated (paused: true), or resumed. */
  backpressure: [{ paused: boolean; queue: number }];
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
  readonly events = new EventEmitter<StageEvents>();
  private readonly options: StageRunnerOptions;
  private readonly consumer: Consumer;
  private readonly deadLetters: DeadLetterQueue;
  private readonly logger: Logger;
  private running = false;
  private readonly crashed: Promise<Error>;
  private crash: (error: Error) => void = () => undefined;

  constructor(options: StageRunnerOptions) {
    this.options = options;
    this.groupId = groupIdOf(options.pipeline, options.stage);
    this.logger = options.logger.child({ group: this.groupId });
    this.consumer = options.kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 1_048_576,
      maxWaitTimeInMs: 250,
    });
    this.deadLetters = new DeadLetterQueue(options.producer, options.pipeline.topics.dlq, options.stage);
    this.crashed = new Promise((resolve) => (this.crash = resolve));
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.crash(payload.error);
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
        const started = performance.now();
        const partitionBatch = { topic: batch.topic, partition: batch.partition, messages: batch.messages };
        await this.waitForPool(batch.topic);
        await retryTransient(
          () => this.options.processor.processBatch(partitionBatch, { heartbeat, deadLetters: this.deadLetters }),
          async (error, attempt, waitMs) => {
            this.logger.warn(
              { partition: batch.partition, offset: batch.firstOffset(), attempt, waitMs, err: error },
              'transient failure; retrying the batch',
            );
            this.events.emit('retry', { topic: batch.topic, partition: batch.partition, attempt, waitMs, error });
            await heartbeat();
          },
          () => !isRunning() || isStale(),
        );
        // Resolving moves kafkajs's fetch position; without it the next fetch
        // returns this batch again (eachBatchAutoResolve is off so that a
        // failed batch is never skipped).
        resolveOffset(batch.lastOffset());
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
        if (this.events.listenerCount('batch') > 0) {
          this.events.emit('batch', {
            topic: batch.topic,
            partition: batch.partition,
            firstOffset: batch.firstOffset() ?? batch.messages[0]!.offset,
            lastOffset: batch.lastOffset(),
            records: batch.messages.length,
            keys: batch.messages.map((message) => message.key?.toString() ?? ''),
            seconds: (performance.now() - started) / 1000,
          });
        }
      },
    });
    this.logger.info({ topic: inputTopic }, 'stage started');
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
