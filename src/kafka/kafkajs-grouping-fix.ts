import { patchKafkajsModule } from './kafkajs-patch.ts';

/**
 * A fix for kafkajs 2.2.4: its producer groups a send's messages by
 * partition in time quadratic in their number (groupMessagesPerPartition
 * copies the partition's whole array for every message), 4–6% of extract's
 * and load's CPU with sends of 500 messages. This does the same grouping in
 * one pass, with the same result: each partition's messages in send order.
 */
interface GroupingInput<M> {
  topic: string;
  partitionMetadata: unknown[];
  messages: M[];
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: M }) => number;
}

export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: GroupingInput<M>): Record<number, M[]> {
  const result: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    (result[partitioner({ topic, partitionMetadata, message })] ??= []).push(message);
  }
  return result;
}

patchKafkajsModule('producer/groupMessagesPerPartition.js', 'producer/sendMessages.js', () => groupMessagesPerPartition);
