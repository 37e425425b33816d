import { describe, expect, it } from 'vitest';
import type { Producer, RecordMetadata } from 'kafkajs';
import { MAX_REQUEST_BYTES, MAX_REQUEST_MESSAGES, requestsOf, sendByPartition, UnsentPartitionError } from '../../../src/kafka/send.ts';

const message = (i: number, bytes: number) => ({ key: `k${i}`, value: Buffer.alloc(bytes) });

describe('requestsOf', () => {
  it('caps a request at MAX_REQUEST_MESSAGES small messages', () => {
    const messages = Array.from({ length: MAX_REQUEST_MESSAGES * 2 + 1 }, (_, i) => message(i, 10));
    expect(requestsOf(messages).map((request) => request.length)).toEqual([MAX_REQUEST_MESSAGES, MAX_REQUEST_MESSAGES, 1]);
  });

  it('keeps small batches in one request', () => {
    const messages = Array.from({ length: 100 }, (_, i) => message(i, 1_000));
    expect(requestsOf(messages)).toEqual([messages]);
  });

  it('cuts a partition batch larger than a request into ordered requests under the limit', () => {
    const messages = Array.from({ length: 400 }, (_, i) => message(i, 5_000));
    const requests = requestsOf(messages);
    expect(requests.length).toBeGreaterThan(3);
    expect(requests.flat()).toEqual(messages);
    for (const request of requests) {
      const bytes = request.reduce((sum, m) => sum + (m.value as Buffer).length + String(m.key).length, 0);
      expect(bytes).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    }
  });

  it('sends a record larger than the limit alone, for the broker to judge', () => {
    const messages = [message(0, 10), message(1, MAX_REQUEST_BYTES + 1), message(2, 10)];
    expect(requestsOf(messages).map((request) => request.length)).toEqual([1, 1, 1]);
  });
});

describe('sendByPartition', () => {
  /** A producer that answers for the partitions it knows, as kafkajs does: the others are skipped without an error. */
  const producerKnowing = (partitions: number[], sent: number[]) =>
    ({
      send: async ({ topic, messages }: { topic: string; messages: Array<{ partition: number }> }): Promise<RecordMetadata[]> => {
        const partition = messages[0]!.partition;
        if (!partitions.includes(partition)) return [];
        sent.push(partition);
        return [{ topicName: topic, partition, errorCode: 0 }];
      },
    }) as unknown as Producer;

  it('resolves when every partition was answered', async () => {
    const sent: number[] = [];
    await sendByPartition(
      producerKnowing([0, 1], sent),
      { topic: 't', partitions: 2 },
      [
        { key: 'a', value: 'x', partition: 0 },
        { key: 'b', value: 'y', partition: 1 },
      ],
      { inTransaction: true },
    );
    expect(sent).toEqual([0, 1]);
  });

  it('fails, transiently, when the client skipped a partition instead of sending its records', async () => {
    const sent: number[] = [];
    const sending = sendByPartition(
      producerKnowing([0], sent),
      { topic: 't', partitions: 6 },
      [
        { key: 'a', value: 'x', partition: 0 },
        { key: 'b', value: 'y', partition: 5 },
      ],
      { inTransaction: true },
    );
    await expect(sending).rejects.toBeInstanceOf(UnsentPartitionError);
    await expect(sending).rejects.toMatchObject({ retriable: true });
    expect(sent).toEqual([0]);
  });
});
