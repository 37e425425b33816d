import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openRecordProducer } from '../../src/kafka/record-producer.ts';
import { openTransactionalProducer } from '../support/kafka.ts';
import { createTestPipeline, type TestPipeline } from '../support/pipeline.ts';

const run = promisify(execFile);
const readRecords = fileURLToPath(new URL('../support/java/ReadRecords.java', import.meta.url));

interface SentRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers: Record<string, Buffer | Buffer[]>;
  partition: number;
}

interface ReadRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Array<[string, string | null]>;
}

const bytes = fc.uint8Array({ maxLength: 200 }).map((array) => Buffer.from(array));

/** Records of every shape kelt's stages write: binary keys and values (not UTF-8 too), tombstones, repeated header names. */
const records = (partitions: number, seed: number): SentRecord[] =>
  fc.sample(
    fc.record({
      key: fc.option(bytes, { nil: null }),
      value: fc.option(bytes, { freq: 8, nil: null }),
      // In the past: the broker refuses timestamps more than an hour ahead (message.timestamp.after.max.ms).
      timestamp: fc.integer({ min: 1_500_000_000_000, max: Date.now() - 3_600_000 }).map(String),
      headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.oneof(bytes, fc.array(bytes, { minLength: 1, maxLength: 3 })), {
        maxKeys: 3,
      }),
      partition: fc.nat(partitions - 1),
    }),
    { numRuns: 400, seed },
  );

/** The records as Kafka's Java consumer reads them: hex bytes, headers in order, a repeated name once per value. */
const asRead = (record: SentRecord) => ({
  partition: record.partition,
  timestamp: Number(record.timestamp),
  key: record.key?.toString('hex') ?? null,
  value: record.value?.toString('hex') ?? null,
  headers: Object.entries(record.headers).flatMap(([name, values]) =>
    (Array.isArray(values) ? values : [values]).map((value) => [Buffer.from(name).toString('hex'), value.toString('hex')]),
  ),
});

/**
 * What kelt's producer writes (its own Produce request encoder, in and out of
 * transactions) is read back by Kafka's reference Java consumer, CRCs
 * checked, byte for byte: keys, values, tombstones, timestamps, headers.
 */
describe('records kelt produces, read by Kafka’s Java consumer', () => {
  let t: TestPipeline;

  beforeAll(async () => {
    t = await createTestPipeline({ partitions: 3 });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const readWithJava = async (topic: string): Promise<ReadRecord[]> => {
    const { stdout } = await run('java', ['-cp', `${inject('tools').kafkaLibs}/*`, readRecords, t.endpoints.kafkaBrokers.join(','), topic], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as ReadRecord);
  };

  const byPartitionAndOffset = (read: ReadRecord[]) =>
    [...read].sort((a, b) => a.partition - b.partition || a.offset - b.offset).map(({ offset: _offset, ...rest }) => rest);

  const inPartitionOrder = (sent: SentRecord[]) => [...sent].sort((a, b) => a.partition - b.partition).map(asRead);

  it('reads every record an idempotent producer sent, exactly', async () => {
    const topic = t.pipeline.topics.extracted;
    const sent = records(3, 1);
    const producer = await openRecordProducer(t.connections.kafka);
    try {
      await producer.send(topic, sent, 3);
    } finally {
      await producer.close();
    }
    expect(byPartitionAndOffset(await readWithJava(topic))).toEqual(inPartitionOrder(sent));
  });

  it('reads the records of a committed transaction, exactly, and none of an aborted one', async () => {
    const topic = t.pipeline.topics.loaded;
    const producer = await openTransactionalProducer(t.connections.kafka);
    const committed = records(3, 2);
    try {
      const aborted = await producer.transaction();
      await aborted.send({ topic, messages: records(3, 3).slice(0, 50) });
      await aborted.abort();
      const transaction = await producer.transaction();
      await transaction.send({ topic, messages: committed });
      await transaction.commit();
    } finally {
      await producer.disconnect();
    }
    expect(byPartitionAndOffset(await readWithJava(topic))).toEqual(inPartitionOrder(committed));
  });
});
