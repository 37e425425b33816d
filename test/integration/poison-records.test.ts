import { randomBytes } from 'node:crypto';
import type { KafkaMessage } from '../support/kafka.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { javaCompatiblePartitioner } from '../../src/kafka/partitioner.ts';
import { generatedEvents } from '../../src/produce/event-source.ts';
import { produceEvents } from '../../src/produce/produce.ts';
import { frame } from '../../src/registry/wire-format.ts';
import { countRows, createTestPipeline, waitFor, type TestPipeline } from '../support/pipeline.ts';
import { registerJsonSchema, uniqueName } from '../support/stack.ts';
import { inputTopicOf, type StageName } from '../../src/pipeline/topology.ts';
import { noise } from '../support/example-records.ts';

/**
 * Poison among good records: each poison record lands in the DLQ with headers
 * naming the stage, the reason and its original position, while every good
 * record around it is processed.
 */
const GOOD = 500;

function validEvent(eventId: string, overrides: Record<string, unknown> = {}) {
  return {
    eventId,
    userId: 'poison-user',
    url: 'https://shop.example/ok',
    referrer: null,
    userAgent: 'Mozilla/5.0',
    ip: '192.0.2.1',
    ts: 1_767_225_600_000,
    ...overrides,
  };
}

describe('poison records', () => {
  let t: TestPipeline;

  beforeAll(async () => {
    t = await createTestPipeline();
  });
  afterAll(async () => t?.cleanup());

  it('dead-letters each poison record with its headers and processes every good one', async () => {
    await Promise.all([t.start('extract'), t.start('load'), t.start('transform')]);
    const { kafka, registry } = t.connections;
    const rawId = await registry.registerAvro(`${t.pipeline.topics.raw}-value`, t.pipeline.source.schema);
    // A writer schema whose `ts` is a string: it registers, but cannot be read as the pipeline's schema.
    const wrongTypeSchema = {
      ...t.pipeline.source.schema,
      fields: t.pipeline.source.schema.fields.map((field) => (field.name === 'ts' ? { name: 'ts', type: 'string' } : field)),
    };
    const wrongTypeId = await registry.registerAvro(uniqueName('kelt-test-wrong-type'), wrongTypeSchema);
    // A JSON Schema in the same registry: its id frames a record that is not Avro at all.
    const jsonSchemaId = await registerJsonSchema(registry.url, uniqueName('kelt-test-json-schema'));

    const poison = [
      { key: 'poison-random', value: noise(64), reason: 'undecodable', stage: 'extract' },
      // No key, placed by its producer: its letter keeps the partition.
      { key: null, partition: 3, value: noise(64), reason: 'undecodable', stage: 'extract' },
      { key: 'poison-unknown', value: frame(2_000_000_000, randomBytes(16)), reason: 'unknown_schema', stage: 'extract' },
      { key: 'poison-json-schema', value: frame(jsonSchemaId, Buffer.from('{"eventId":"x"}')), reason: 'unknown_schema', stage: 'extract' },
      {
        key: 'poison-wrong-type',
        value: await registry.encodeAvro(wrongTypeId, validEvent('wrong-type', { ts: 'yesterday' })),
        reason: 'schema_violation',
        stage: 'extract',
      },
      {
        key: 'poison-user',
        value: await registry.encodeAvro(rawId, validEvent('bad-url', { url: 'not a url' })),
        reason: 'transform_error',
        stage: 'transform',
      },
      {
        key: 'poison-user',
        value: await registry.encodeAvro(rawId, validEvent('x'.repeat(300))),
        reason: 'row_rejected',
        stage: 'load',
      },
    ];

    const producer = kafka.producer({ createPartitioner: javaCompatiblePartitioner });
    await producer.connect();
    const good = generatedEvents(t.pipeline.source.generatorPath!, GOOD);
    await produceEvents(
      t.pipeline,
      (async function* () {
        let i = 0;
        for await (const event of good) {
          yield event;
          // Poison in the middle of the good records, not at the edges of a batch.
          if (++i === GOOD / 2) {
            await producer.send({
              topic: t.pipeline.topics.raw,
              messages: poison.map(({ key, value, ...placed }) => ({
                key,
                value,
                ...('partition' in placed ? { partition: placed.partition } : {}),
              })),
            });
          }
        }
      })(),
      t.connections,
      { batchSize: 50 },
    );
    await producer.disconnect();

    const letters: KafkaMessage[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('kelt-test-dlq-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: t.pipeline.topics.dlq, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void letters.push(message) });
    await waitFor(`${poison.length} dead letters`, async () => letters.length >= poison.length);
    await waitFor('every good record modeled', async () => (await countRows(t.db, 'fct_pageviews')) >= GOOD);
    await consumer.disconnect();

    expect(letters).toHaveLength(poison.length);
    const header = (message: KafkaMessage, name: string) => message.headers?.[name]?.toString();
    for (const expected of poison) {
      const letter = letters.find(
        (message) => header(message, 'kelt.reason') === expected.reason && (message.key?.toString() ?? null) === expected.key,
      );
      expect(letter, `a dead letter for ${expected.reason}`).toBeDefined();
      expect(header(letter!, 'kelt.stage')).toBe(expected.stage);
      expect(header(letter!, 'kelt.error')).toBeTruthy();
      expect(header(letter!, 'kelt.original.topic')).toBe(inputTopicOf(t.pipeline, expected.stage as StageName));
      expect(Number(header(letter!, 'kelt.original.partition'))).toBeGreaterThanOrEqual(0);
      if ('partition' in expected) expect(Number(header(letter!, 'kelt.original.partition'))).toBe(expected.partition);
      expect(Number(header(letter!, 'kelt.original.offset'))).toBeGreaterThanOrEqual(0);
      if (expected.stage === 'extract') expect(letter!.value).toEqual(expected.value);
    }

    // The good records, and the one that failed only in transform, are staged; only the good ones are modeled.
    expect(await countRows(t.db, 'stg_pageviews')).toBe(GOOD + 1);
    expect(await countRows(t.db, 'fct_pageviews')).toBe(GOOD);
  });
});
