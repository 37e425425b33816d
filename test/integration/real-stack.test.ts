import { readFileSync } from 'node:fs';
import { Partitioners, type Consumer, type Kafka } from '../support/kafka.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../src/kafka/client.ts';
import { createLogger } from '../../src/log/logger.ts';
import { SchemaRegistryClient } from '../../src/registry/client.ts';
import { createTestDatabase, endpoints, uniqueName, type TestDatabase } from '../support/stack.ts';

/**
 * The foundation's proof that the real parts work together: an Avro schema
 * from schemas/ registered, 1,000 keyed records produced in the Confluent wire
 * format, consumed by a consumer group, written to MySQL and read back.
 */
interface PageView {
  eventId: string;
  userId: string;
  url: string;
  referrer: string | null;
  userAgent: string;
  ip: string;
  ts: number;
}

const schema = JSON.parse(readFileSync(new URL('../../schemas/pageview.avsc', import.meta.url), 'utf8'));
const RECORDS = 1_000;
const PARTITIONS = 6;

function pageView(i: number): PageView {
  return {
    eventId: `evt-${i.toString().padStart(6, '0')}`,
    userId: `user-${i % 37}`,
    url: `https://shop.example/p/${i}?q=${encodeURIComponent('ünïcødé & co')}`,
    referrer: i % 3 === 0 ? null : `https://search.example/?q=${i}`,
    userAgent: `Mozilla/5.0 (X11; Linux x86_64) test/${i}`,
    ip: `10.0.${i % 256}.${(i * 7) % 256}`,
    ts: 1_767_225_600_000 + i * 1_000,
  };
}

describe('the real stack: registry, Kafka and MySQL together', () => {
  const logger = createLogger('warn', { test: 'real-stack' });
  const topic = uniqueName('kelt.test.pageviews');
  let kafka: Kafka;
  let consumer: Consumer | undefined;
  let db: TestDatabase;

  beforeAll(async () => {
    kafka = createKafkaClient({ brokers: endpoints().kafkaBrokers, clientId: 'kelt-test', logger });
    db = await createTestDatabase();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
    await admin.disconnect();
  });

  afterAll(async () => {
    await consumer?.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
    await db.drop();
  });

  it('carries 1,000 keyed Avro records from a producer to MySQL with every field intact', async () => {
    const registry = new SchemaRegistryClient(endpoints().schemaRegistryUrl);
    const schemaId = await registry.registerAvro(`${topic}-value`, schema);
    expect(schemaId).toBeGreaterThan(0);

    const sent = Array.from({ length: RECORDS }, (_, i) => pageView(i));
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const messages = await Promise.all(sent.map(async (event) => ({ key: event.userId, value: await registry.encodeAvro(schemaId, event) })));
    await producer.send({ topic, messages });
    await producer.disconnect();

    await db.pool.query(`
      CREATE TABLE pageviews (
        event_id VARCHAR(64) NOT NULL PRIMARY KEY,
        user_id VARCHAR(64) NOT NULL,
        url TEXT NOT NULL,
        referrer TEXT NULL,
        user_agent TEXT NOT NULL,
        ip VARCHAR(45) NOT NULL,
        ts DATETIME(3) NOT NULL,
        kafka_partition INT NOT NULL,
        kafka_offset BIGINT NOT NULL
      )`);

    const keysByPartition = new Map<number, Set<string>>();
    let written = 0;
    consumer = kafka.consumer({ groupId: uniqueName('kelt-test-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      void consumer!.run({
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          try {
            const rows = [];
            for (const message of batch.messages) {
              const event = (await registry.decodeAvro(message.value!)) as PageView;
              const key = message.key!.toString();
              const keys = keysByPartition.get(batch.partition) ?? new Set<string>();
              keysByPartition.set(batch.partition, keys.add(key));
              rows.push([
                event.eventId,
                event.userId,
                event.url,
                event.referrer,
                event.userAgent,
                event.ip,
                new Date(event.ts),
                batch.partition,
                message.offset,
              ]);
            }
            if (rows.length > 0) {
              await db.pool.query(
                'INSERT INTO pageviews (event_id, user_id, url, referrer, user_agent, ip, ts, kafka_partition, kafka_offset) VALUES ?',
                [rows],
              );
            }
            resolveOffset(batch.lastOffset());
            await heartbeat();
            written += rows.length;
            if (written >= RECORDS) resolve();
          } catch (error) {
            reject(error);
          }
        },
      });
    });
    await done;

    const [stored] = await db.pool.query(
      'SELECT event_id, user_id, url, referrer, user_agent, ip, ts, kafka_partition FROM pageviews ORDER BY event_id',
    );
    const readBack = (stored as Array<Record<string, unknown>>).map((row) => ({
      eventId: row.event_id,
      userId: row.user_id,
      url: row.url,
      referrer: row.referrer,
      userAgent: row.user_agent,
      ip: row.ip,
      ts: (row.ts as Date).getTime(),
    }));
    expect(readBack).toEqual(sent);

    // Keyed records: each key lives on exactly one partition, and the records
    // were spread over more than one.
    const partitionsOfKey = new Map<string, number[]>();
    for (const [partition, keys] of keysByPartition) {
      for (const key of keys) partitionsOfKey.set(key, [...(partitionsOfKey.get(key) ?? []), partition]);
    }
    expect(partitionsOfKey.size).toBe(37);
    expect([...partitionsOfKey.values()].every((partitions) => partitions.length === 1)).toBe(true);
    expect(keysByPartition.size).toBeGreaterThan(1);
  });
});
