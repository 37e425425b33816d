import type { Producer } from 'kafkajs';
import type { KafkaCluster } from './client.ts';
import { javaCompatiblePartitioner } from './partitioner.ts';
import type { OutgoingRecord, RecordSink } from './records.ts';
import { sendByPartition } from './send.ts';

/**
 * A non-transactional producer that cannot duplicate or skip a record on
 * retry: idempotent (the broker drops a retried request's duplicates and
 * refuses out-of-order writes), keyed records partitioned like the Java client.
 */
export function createIdempotentProducer(kafka: KafkaCluster): Producer {
  return kafka.producer({
    createPartitioner: javaCompatiblePartitioner,
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
  });
}

/** Records sent outside any transaction, through an idempotent producer. */
export interface RecordProducer extends RecordSink {
  close(): Promise<void>;
}

/**
 * A connected idempotent producer (the caller closes it). A send keeps
 * retrying through a broker's absence for `retryForMs` before it fails.
 */
export async function openRecordProducer(kafka: KafkaCluster, { retryForMs = 0 }: { retryForMs?: number } = {}): Promise<RecordProducer> {
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  return {
    send: (topic: string, records: readonly OutgoingRecord[], partitions: number) =>
      sendByPartition(producer, { topic, partitions }, records, { inTransaction: false, retryForMs }),
    close: () => producer.disconnect(),
  };
}
