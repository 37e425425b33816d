import type { Consumer, Kafka } from 'kafkajs';
import { BatchesInFlight } from './batches-in-flight.ts';
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
  /** Bytes of fetched records the member holds (waiting or in process) before it stops fetching. */
  maxBytesInFlight: number;
}

/**
 * A member of a consumer group as kelt's runner uses it: read committed,
 * no auto-commit, each partition's batches handed over in order while the
 * next fetch goes ahead. kelt's runner sees this interface only, so a fake
 * can stand in for it in tests and another client could implement it.
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

/**
 * kafkajs's consumer as a GroupConsumer. kafkajs fetches a broker's
 * partitions again only once every batch of its last fetch is handled, so
 * the slowest batch (a commit, a retry) would hold the next fetch of every
 * partition: a batch is taken in at once instead (kafkajs's position moves
 * past it) and processed beside the next fetch (batches-in-flight.ts), with
 * fetching paused while the bytes held exceed `maxBytesInFlight`. A batch
 * taken in is never lost: the runner processes it while the partition is
 * this member's, and a rebalance or a seek makes kafkajs fetch again from
 * the group's committed offset (the runner's session drops the batches of
 * the generation before).
 */
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
  /** Why fetching is paused: the runner's reasons (by topic), and the bytes held. */
  let pausedByRunner = false;
  let pausedByBytes = false;
  const applyPause = () => {
    if (topicName === '') return;
    if (pausedByRunner || pausedByBytes || !running) consumer.pause([{ topic: topicName }]);
    else consumer.resume([{ topic: topicName }]);
  };
  let inFlight: BatchesInFlight | undefined;
  /**
   * Seeks per partition: a batch taken in before a seek is stale once the
   * seek is made, even after kafkajs has applied it (its own isStale() then
   * says no more).
   */
  const seeks = new Map<number, number>();
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
      const batches = new BatchesInFlight({
        maxBytes: options.maxBytesInFlight,
        pause: () => ((pausedByBytes = true), applyPause()),
        resume: () => ((pausedByBytes = false), applyPause()),
        failed: (error) => listener.crashed(error instanceof Error ? error : new Error(String(error)), false),
      });
      inFlight = batches;
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      running = true;
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: concurrency,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
          if (batch.isEmpty() || isStale() || !running) return;
          const { partition } = batch;
          const lastOffset = batch.lastOffset();
          const seeksBefore = seeks.get(partition) ?? 0;
          const stale = () => isStale() || (seeks.get(partition) ?? 0) !== seeksBefore;
          resolveOffset(lastOffset);
          batches.add(bytesOf(batch.messages), () =>
            eachBatch(
              { topic: batch.topic, partition, records: batch.messages, lastOffset },
              // Stopping ends a batch's retries as kafkajs's own stop did: the next owner takes the batch up.
              { heartbeat, isRunning: () => running && isRunning(), isStale: stale },
            ),
          );
        },
      });
    },
    commit: (topic, partition, offset) => consumer.commitOffsets([{ topic, partition, offset }]),
    seek: (topic, partition, offset) => {
      seeks.set(partition, (seeks.get(partition) ?? 0) + 1);
      consumer.seek({ topic, partition, offset });
    },
    pause: () => ((pausedByRunner = true), applyPause()),
    resume: () => ((pausedByRunner = false), applyPause()),
    pausedPartitions: () => consumer.paused().reduce((sum, { partitions }) => sum + partitions.length, 0),
    async stop() {
      running = false;
      applyPause();
      await inFlight?.drain();
      await consumer.disconnect();
    },
  };
}

/** The bytes a batch's records hold (keys, values, headers). */
function bytesOf(records: readonly ConsumedRecord[]): number {
  let bytes = 0;
  for (const record of records) {
    bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
    for (const value of Object.values(record.headers ?? {})) {
      for (const part of Array.isArray(value) ? value : [value]) bytes += part?.length ?? 0;
    }
  }
  return bytes;
}
