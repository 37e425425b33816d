import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { TransientError } from '../errors.ts';
import type { PartitionOffsets } from './cluster-admin.ts';
import type { ConsumedRecord } from './records.ts';

/** Called per fetched batch: the committed records of one partition, in offset order, and the offset after them. */
export type RangeBatchHandler = (partition: number, records: ConsumedRecord[], nextOffset: bigint) => Promise<void>;

export interface TopicRange {
  /** Per partition, the first offset to read. */
  from: PartitionOffsets;
  /** Per partition, the offset to stop before (a partition missing here is not read). */
  to: PartitionOffsets;
  /** How long a partition may make no progress before the read gives up (default 90 s). */
  stallMs?: number;
}

/**
 * Reads a range of a topic, read committed (records of aborted transactions
 * are never handed over), and returns once every partition has reached its
 * end of the range. kafkajs reads only as a group member, so the reader
 * joins a group of its own that commits nothing (the coordinator forgets an
 * empty group without offsets). Gives up, transiently, when a partition
 * makes no progress for `stallMs` (an open transaction ahead holds the
 * reader back at most the transaction timeout, 60 s for kelt's stages).
 */
export async function readTopicRange(kafka: Kafka, topic: string, range: TopicRange, onBatch: RangeBatchHandler): Promise<void> {
  const stallMs = range.stallMs ?? 90_000;
  const position = new Map<number, bigint>();
  for (const [partition, end] of range.to) {
    const start = range.from.get(partition) ?? 0n;
    if (start < end) position.set(partition, start);
  }
  const unfinished = () => [...position].filter(([partition, at]) => at < range.to.get(partition)!);
  if (unfinished().length === 0) return;

  const consumer = kafka.consumer({ groupId: `kelt.reader.${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 200 });
  let progressed = Date.now();
  let failure: unknown;
  const advance = (partition: number, next: bigint) => {
    const at = position.get(partition);
    if (at === undefined || next <= at) return;
    position.set(partition, next);
    progressed = Date.now();
  };
  // A fetch of commit markers or aborted records alone never reaches eachBatch.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic && payload.batchSize === 0) advance(payload.partition, BigInt(payload.lastOffset) + 1n);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) failure ??= payload.error;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const end = range.to.get(batch.partition);
        const at = position.get(batch.partition);
        if (end === undefined || at === undefined || at >= end) return;
        const records = batch.messages.filter((record) => BigInt(record.offset) >= at && BigInt(record.offset) < end);
        const lastNext = BigInt(batch.lastOffset()) + 1n;
        const next = lastNext < end ? lastNext : end;
        try {
          await onBatch(batch.partition, records, next);
        } catch (error) {
          // The handler's own error is the reader's; kafkajs would wrap it in its own.
          failure ??= error;
          throw error;
        }
        advance(batch.partition, next);
      },
    });
    for (const [partition, at] of unfinished()) consumer.seek({ topic, partition, offset: at.toString() });
    while (unfinished().length > 0) {
      if (failure !== undefined) throw failure;
      if (Date.now() - progressed > stallMs) {
        throw new TransientError(
          `reading ${topic}: no progress for ${stallMs / 1000} s at ${unfinished()
            .map(([p, at]) => `${p}@${at}`)
            .join(', ')}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await consumer.disconnect();
  }
}
