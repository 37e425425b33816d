import { plainKafka } from '../support/kafka.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { avroType } from '../../src/avro/logical-types.ts';
import { javaCompatiblePartitioner } from '../../src/kafka/partitioner.ts';
import { SchemaRegistryClient } from '../../src/registry/client.ts';
import { frame } from '../../src/registry/wire-format.ts';
import { accountsPipeline } from '../support/debezium/accounts-pipeline.ts';
import { connectDecimal, connectTemporal } from '../support/debezium/avro-types.ts';
import { countRows, createTestPipeline, readTopic, waitFor, type TestPipeline } from '../support/pipeline.ts';

/** The accounts row as Kafka Connect's Avro converter writes Debezium's types: connect.* attributes on plain Avro types. */
const value = {
  type: 'record',
  name: 'Value',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'owner', type: 'string' },
    { name: 'balance', type: connectDecimal(12, 2) },
    { name: 'opened', type: connectTemporal('int', 'io.debezium.time.Date'), default: null },
    // Milliseconds (a DATETIME(3) column) into the pipeline's microsecond field: read as the bare long it is, it would land 1,000 times too early.
    { name: 'updated_at', type: connectTemporal('long', 'io.debezium.time.Timestamp'), default: null },
    { name: 'visits', type: 'long' },
  ],
  'connect.name': 'shop.shop.accounts.Value',
};
const envelope = {
  type: 'record',
  name: 'Envelope',
  namespace: 'shop.shop.accounts',
  fields: [
    { name: 'before', type: ['null', value], default: null },
    { name: 'after', type: ['null', 'Value'], default: null },
    { name: 'op', type: 'string' },
    { name: 'ts_ms', type: ['null', 'long'], default: null },
  ],
  'connect.name': 'shop.shop.accounts.Envelope',
};

/**
 * Debezium's change events as the Avro converter frames them (Confluent wire
 * format, the envelope registered in the registry): the registry's schema
 * text carries the connect.name attributes avsc's types drop, so a
 * millisecond Timestamp lands as what it is in the pipeline's microsecond field.
 */
describe('Debezium change events in Avro through the registry', () => {
  let t: TestPipeline;

  beforeAll(async () => {
    t = await createTestPipeline(accountsPipeline(3));
    await t.start('extract');
    await t.start('load');
  });

  afterAll(async () => {
    await t?.cleanup();
  });

  it('upserts the row after, deletes the row before, with each value exact', async () => {
    // Registered by a client of its own, as the connector would: the stage fetches the schema from the registry.
    const id = await new SchemaRegistryClient(t.endpoints.schemaRegistryUrl).registerAvro(`${t.pipeline.topics.raw}-value`, envelope);
    const type = avroType(envelope as Parameters<typeof avroType>[0]);
    const row = (n: number) => ({
      id: n,
      owner: `owner-${n}`,
      balance: `${n}.0${n % 10}`,
      opened: 20_000 + n,
      updated_at: 1_767_225_600_000 + n,
      visits: n * 1_000,
    });
    const events = [
      ...Array.from({ length: 30 }, (_, i) => ({ before: null, after: row(i + 1), op: i < 10 ? 'r' : 'c', ts_ms: 1 })),
      { before: row(3), after: { ...row(3), owner: 'renamed', balance: '-0.01' }, op: 'u', ts_ms: 2 },
      { before: row(4), after: null, op: 'd', ts_ms: 3 },
    ];
    const producer = plainKafka(t.endpoints.kafkaBrokers).producer({
      createPartitioner: javaCompatiblePartitioner,
    });
    await producer.connect();
    await producer.send({
      topic: t.pipeline.topics.raw,
      messages: [
        ...events.map((event) => ({ key: JSON.stringify({ id: (event.after ?? event.before)!.id }), value: frame(id, type.toBuffer(event)) })),
        { key: JSON.stringify({ id: 4 }), value: null },
      ],
    });
    await producer.disconnect();

    await waitFor(
      '29 staged rows',
      async () =>
        (await countRows(t.db, 'stg_accounts')) === 29 &&
        ((await t.db.pool.query('SELECT 1 FROM stg_accounts WHERE id = 4'))[0] as unknown[]).length === 0,
    );
    const [rows] = await t.db.pool.query(
      "SELECT id, owner, balance, DATE_FORMAT(opened, '%Y-%m-%d') AS opened, DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f') AS updated_at, visits FROM stg_accounts WHERE id IN (3, 7) ORDER BY id",
    );
    expect(rows).toEqual([
      { id: 3, owner: 'renamed', balance: '-0.01', opened: '2024-10-07', updated_at: '2026-01-01 00:00:00.003000', visits: 3_000 },
      { id: 7, owner: 'owner-7', balance: '7.07', opened: '2024-10-11', updated_at: '2026-01-01 00:00:00.007000', visits: 7_000 },
    ]);
    expect(await readTopic(t.connections.kafka, t.pipeline.topics.dlq)).toHaveLength(0);
  });
});
