import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { groupMessagesPerPartition } from '../../../src/kafka/kafkajs-grouping-fix.ts';
import { kafkajsPatched } from '../../../src/kafka/kafkajs-patch.ts';

const require = createRequire(import.meta.url);

describe('kafkajs partition grouping fix', () => {
  const partitionMetadata = [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }];
  const messages = Array.from({ length: 10 }, (_, i) => ({ value: `m${i}`, partition: (i * 7) % 3 }));
  const partitioner = ({ message }: { message: { partition: number } }) => message.partition;

  it('groups messages by partition, each in send order', () => {
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner })).toEqual({
      0: [messages[0], messages[3], messages[6], messages[9]],
      1: [messages[1], messages[4], messages[7]],
      2: [messages[2], messages[5], messages[8]],
    });
  });

  it('groups nothing for a topic without metadata, as kafkajs does', () => {
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner })).toEqual({});
  });

  it('is the grouping kafkajs producer loads', () => {
    // Test files evaluate the fix anew while the require cache keeps the first evaluation's function: compare by behaviour.
    const loaded = require('kafkajs/src/producer/groupMessagesPerPartition.js') as typeof groupMessagesPerPartition;
    expect(kafkajsPatched('producer/groupMessagesPerPartition.js')).toBe(true);
    expect(loaded({ topic: 't', partitionMetadata, messages, partitioner })).toEqual(
      groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner }),
    );
  });
});
