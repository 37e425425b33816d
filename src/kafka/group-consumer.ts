import type { Consumer, Kafka } from 'kafkajs';
import type { ConsumedRecord, TopicPartition } from './records.ts';

/** The records of one partition that one fetch returned, in offset order. */
export interface FetchedBatch {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
  /** The offset of the batch's last record. */
  lastOffset: string;
}

/** What the consumer offers while a batch is processed. */
export interface BatchControls {
  /** Heartbeats the group; rejects when the group has moved on (see `isRebalanceError`). */
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  /** Whether the client has dropped this partition's fetch position (a seek or a revocation). */
  isStale(): boolean;
  /** Marks the batch done up to `offset`, so the next fetch starts after it. */
  resolve(offset: string): void;
}

/** What the consumer reports as it runs. */
export interface ConsumerListener {
  joined(owned: TopicPartition[]): void;
  /** A fetch returned only transaction commit markers, up to `nextOffset`. */
  markersOnly(topic: string, partition: number, nextOffset: string): void;
  /** A fetch began or a heartbeat went through. */
  signOfLife(): void;
  /** The group coordinator accepted a heartbeat. */
  heartbeat(): void;
  /** The client crashed; `restarting` says whether it reconnects on its own. */
  crashed(error: Error, restarting: boolean): void;
}

export interface GroupConsumerOptions {
  groupId: string;
  sessionTimeoutMs: number;
}

/**
 * A member of a consumer group as kelt's runner uses it: read committed,
 * no auto-commit, batches per partition handed over until resolved. kelt's
 * runner sees this interface only, so a fake can stand in for it in tests and
 * another client could implement it.
 */
export interface GroupConsumer {
  run(topic: string, concurrency: number, eachBatch: (batch: FetchedBatch, controls: BatchControls) => Promise<void>): Promise<void>;
  commit(topic: string, partition: number, offset: string): Promise<void>;
  seek(topic: string, partition: number, offset: string): void;
  pause(topic: string): void;
  resume(topic: string): void;
  pausedPartitions(): number;
  stop(): Promise<void>;
}

/** kafkajs's consumer as a GroupConsumer. */
export function kafkaGroupConsumer(kafka: Kafka, options: GroupConsumerOptions, listener: ConsumerListener): GroupConsumer {
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    readUncommitted: false,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: Math.min(3_000, Math.floor(options.sessionTimeoutMs / 3)),
    maxBytesPerPartition: 1_048_576,
    maxWaitTimeInMs: 250,
  });
  let topicName = '';
  let running = false;
  consumer.on(consumer.events.CRASH, ({ payload }) => listener.crashed(payload.error, payload.restart));
  consumer.on(consumer.events.FETCH_START, () => listener.signOfLife());
  consumer.on(consumer.events.HEARTBEAT, () => {
    listener.signOfLife();
    listener.heartbeat();
  });
  // A fetch that returned only transaction commit markers never reaches
  // eachBatch (kafkajs resolves it itself).
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize > 0 || !running) return;
    listener.markersOnly(payload.topic, payload.partition, (BigInt(payload.lastOffset) + 1n).toString());
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    listener.joined((payload.memberAssignment[topicName] ?? []).map((partition) => ({ topic: topicName, partition })));
  });
  return {
    async run(topic, concurrency, eachBatch) {
      topicName = topic;
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      running = true;
      await consumer.run({
        autoCommit: false,
        // A batch is resolved only once done, so a failed batch is never skipped.
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: concurrency,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
          if (batch.isEmpty() || isStale()) return;
          await eachBatch(
            { topic: batch.topic, partition: batch.partition, records: batch.messages, lastOffset: batch.lastOffset() },
            { heartbeat, isRunning, isStale, resolve: resolveOffset },
          );
        },
      });
    },
    commit: (topic, partition, offset) => consumer.commitOffsets([{ topic, partition, offset }]),
    seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset }),
    pause: (topic) => consumer.pause([{ topic }]),
    resume: (topic) => consumer.resume([{ topic }]),
    pausedPartitions: () => consumer.paused().reduce((sum, { partitions }) => sum + partitions.length, 0),
    async stop() {
      running = false;
      await consumer.disconnect();
    },
  };
}
