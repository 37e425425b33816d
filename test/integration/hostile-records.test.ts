import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { avroType } from '../../src/avro/logical-types.ts';
import { javaCompatiblePartitioner } from '../../src/kafka/partitioner.ts';
import { frame } from '../../src/registry/wire-format.ts';
import { setMessageLimits } from '../support/kafka.ts';
import { countRows, createTestPipeline, readTopic, waitFor, type TestPipeline } from '../support/pipeline.ts';
import { startTestStage, stopStageProcesses, type StageProcess } from '../support/stage-process.ts';
import { registerJsonSchema, uniqueName } from '../support/stack.ts';
import { tempFile } from '../support/temp-file.ts';
import { noise } from '../support/example-records.ts';

/**
 * Every kind of hostile record at once, among good ones on every partition,
 * against the three stages as processes: each hostile record is
 * dead-lettered exactly once with its reason, every good record is staged
 * and modeled, no stage exits, /healthz and /readyz answer 200 throughout,
 * and SIGTERM drains each stage. Not the example pipeline: a source with a
 * double, an array and free text, and a transform that misbehaves on cue.
 */
const GOOD = 600;

const source = {
  type: 'record',
  name: 'Order',
  namespace: 'dev.kelt.test',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'items', type: { type: 'array', items: 'string' } },
    { name: 'note', type: 'string' },
  ],
};

/** The transform misbehaves as the record's note says. */
const transform = `
export default async function transform(order) {
  const row = { order_id: order.orderId, customer: order.customer, amount: order.amount, items: order.items.length };
  switch (order.note) {
    case 'throws': throw new Error('this order cannot be transformed');
    case 'loops': for (;;);
    case 'hangs': await new Promise(() => undefined);
    case 'hoards': { const hoard = []; for (;;) hoard.push(new Array(1_000_000).fill(1.5)); }
    case 'nan': row.amount = Number.NaN; break;
    case 'object': row.customer = { nested: true }; break;
  }
  return { fct_orders: row };
}
`;

function order(n: number, overrides: Record<string, unknown> = {}) {
  return { orderId: `o-${n}`, customer: `c${n % 37}`, amount: n + 0.25, items: [`sku-${n % 5}`], note: 'ok', ...overrides };
}

interface Hostile {
  key: string | null;
  value: Buffer | null;
  partition?: number;
  stage: 'extract' | 'load' | 'transform';
  reason: string;
}

describe('hostile records', () => {
  let t: TestPipeline | undefined;
  const processes: StageProcess[] = [];
  afterEach(async () => {
    await stopStageProcesses(processes);
    await t?.cleanup();
    t = undefined;
  });

  it('dead-letters each kind once with its reason, models every good record, keeps every stage up and healthy, and drains on SIGTERM', async () => {
    t = await createTestPipeline({
      source: { format: 'avro', schema: tempFile('order.avsc', JSON.stringify(source)), keyField: 'customer' } as never,
      staging: { table: 'stg_orders', primaryKey: ['orderId'], columns: { note: 'text' } } as never,
      transform: {
        module: tempFile('transform.mjs', transform),
        tables: [
          { name: 'fct_orders', primaryKey: ['order_id'], columns: { order_id: 'string', customer: 'string', amount: 'double', items: 'int' } },
        ],
        timeoutMs: 3_000,
      } as never,
      pool: { threads: 2, memoryMb: 128 },
    });
    const { kafka, registry } = t.connections;
    await setMessageLimits(kafka, { [t.pipeline.topics.extracted]: 200_000 });

    const rawId = await registry.registerAvro(`${t.pipeline.topics.raw}-value`, source);
    const stringAmount = await registry.registerAvro(uniqueName('kelt-test-amount-as-string'), {
      ...source,
      fields: source.fields.map((field) => (field.name === 'amount' ? { name: 'amount', type: 'string' } : field)),
    });
    const jsonSchemaId = await registerJsonSchema(registry.url, uniqueName('kelt-test-json-schema'));
    const encoded = (n: number, overrides: Record<string, unknown> = {}) => registry.encodeAvro(rawId, order(n, overrides));
    // The fields before `items`, then a block count of 2^31 items and one short item.
    const prefix = avroType({ ...source, fields: source.fields.slice(0, 3) } as never).toBuffer(order(9_001, { customer: 'h-claims' }));
    const truncated = await encoded(9_002, { customer: 'h-truncated' });
    // An order whose note ends in two bytes that are not UTF-8 (Avro writes a string as its length and bytes).
    const badText = Buffer.from(await encoded(9_020, { customer: 'h-not-utf8', note: 'zz' }));
    badText.set([0xff, 0xfe], badText.length - 2);
    const hostile: Hostile[] = [
      { key: 'h-random', value: noise(64), stage: 'extract', reason: 'undecodable' },
      { key: null, partition: 3, value: noise(64), stage: 'extract', reason: 'undecodable' },
      // A tombstone without a key: no row to delete, no partition to place it in downstream.
      { key: null, partition: 1, value: null, stage: 'extract', reason: 'undecodable' },
      { key: 'h-unknown-id', value: frame(2_000_000_000, randomBytes(16)), stage: 'extract', reason: 'unknown_schema' },
      { key: 'h-json-schema', value: frame(jsonSchemaId, Buffer.from('{"orderId":"x"}')), stage: 'extract', reason: 'unknown_schema' },
      { key: 'h-truncated', value: truncated.subarray(0, truncated.length - 4), stage: 'extract', reason: 'schema_violation' },
      { key: 'h-not-utf8', value: badText, stage: 'extract', reason: 'schema_violation' },
      {
        key: 'h-claims',
        value: frame(rawId, Buffer.concat([prefix, Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f, 0x02, 0x61])])),
        stage: 'extract',
        reason: 'schema_violation',
      },
      {
        key: 'h-wrong-type',
        value: await registry.encodeAvro(stringAmount, order(9_003, { customer: 'h-wrong-type', amount: 'lots' })),
        stage: 'extract',
        reason: 'schema_violation',
      },
      {
        key: 'h-too-large',
        value: await encoded(9_004, { customer: 'h-too-large', note: 'x'.repeat(300_000) }),
        stage: 'extract',
        reason: 'record_too_large',
      },
      {
        key: 'h-infinite',
        value: await encoded(9_005, { customer: 'h-infinite', amount: Number.POSITIVE_INFINITY }),
        stage: 'load',
        reason: 'row_rejected',
      },
      { key: 'h-long-key', value: await encoded(9_006, { customer: 'h-long-key', orderId: 'o'.repeat(300) }), stage: 'load', reason: 'row_rejected' },
      { key: 'h-throws', value: await encoded(9_007, { customer: 'h-throws', note: 'throws' }), stage: 'transform', reason: 'transform_error' },
      { key: 'h-loops', value: await encoded(9_008, { customer: 'h-loops', note: 'loops' }), stage: 'transform', reason: 'transform_timeout' },
      { key: 'h-hangs', value: await encoded(9_009, { customer: 'h-hangs', note: 'hangs' }), stage: 'transform', reason: 'transform_timeout' },
      {
        key: 'h-hoards',
        value: await encoded(9_010, { customer: 'h-hoards', note: 'hoards' }),
        stage: 'transform',
        reason: 'transform_out_of_memory',
      },
      { key: 'h-nan', value: await encoded(9_011, { customer: 'h-nan', note: 'nan' }), stage: 'transform', reason: 'transform_error' },
      { key: 'h-object', value: await encoded(9_012, { customer: 'h-object', note: 'object' }), stage: 'transform', reason: 'transform_error' },
    ];
    const stagedHostile = hostile.filter((h) => h.stage === 'transform').length;

    const stages = (['extract', 'load', 'transform'] as const).map((stage) =>
      startTestStage(stage, t!.specPath, t!.endpoints, `${t!.pipeline.name}-${stage}`),
    );
    processes.push(...stages);
    await Promise.all(stages.map((stage) => stage.joined()));
    const ports = await Promise.all(stages.map((stage) => stage.httpPort()));
    // Ready once each member's work on its assignment is done (a moment after it joined); healthy and ready from then on.
    for (const port of ports) await waitFor('the stage ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200);
    const unhealthy: string[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const [i, port] of ports.entries()) {
          for (const path of ['/healthz', '/readyz']) {
            const response = await fetch(`http://127.0.0.1:${port}${path}`).catch((error: unknown) => ({ status: String(error) }));
            if (response.status !== 200) unhealthy.push(`${stages[i]!.stage} ${path}: ${response.status}`);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();

    const producer = kafka.producer({ createPartitioner: javaCompatiblePartitioner });
    await producer.connect();
    for (let n = 0; n < GOOD; n += 50) {
      const good = await Promise.all(Array.from({ length: 50 }, (_, i) => encoded(n + i)));
      const messages: Array<{ key: string | null; value: Buffer | null; partition?: number }> = good.map((value, i) => ({
        key: order(n + i).customer,
        value,
      }));
      // Hostile records spread through the good ones, never at the edge of what a producer sends.
      const mixed = hostile.filter((_, h) => h % (GOOD / 50) === n / 50);
      messages.splice(25, 0, ...mixed.map(({ key, value, partition }) => ({ key, value, ...(partition === undefined ? {} : { partition }) })));
      await producer.send({ topic: t.pipeline.topics.raw, messages });
    }
    await producer.disconnect();

    await waitFor('every good record modeled', async () => (await countRows(t!.db, 'fct_orders')) >= GOOD);
    await waitFor('every hostile record dead-lettered', async () => (await readTopic(kafka, t!.pipeline.topics.dlq)).length >= hostile.length);
    watching = false;
    await watch;

    const letters = await readTopic(kafka, t.pipeline.topics.dlq);
    const header = (letter: (typeof letters)[number], name: string) => letter.headers?.[name]?.toString();
    expect(
      letters.map((letter) => `${letter.key?.toString() ?? null} ${header(letter, 'kelt.stage')}/${header(letter, 'kelt.reason')}`).sort(),
    ).toEqual(hostile.map(({ key, stage, reason }) => `${key} ${stage}/${reason}`).sort());
    for (const letter of letters) expect(header(letter, 'kelt.error'), letter.key?.toString()).toBeTruthy();
    expect(letters.filter((letter) => letter.key === null).map((letter) => letter.partition)).toEqual(expect.arrayContaining([1, 3]));
    expect(await countRows(t.db, 'stg_orders')).toBe(GOOD + stagedHostile);
    expect(await countRows(t.db, 'fct_orders')).toBe(GOOD);
    expect(unhealthy).toEqual([]);
    for (const stage of stages) {
      expect(stage.running, stage.stage).toBe(true);
      expect(await stage.stopWithin(25_000), stage.stage).toBe('drained');
      expect((await stage.exit()).code, stage.stage).toBe(0);
    }
  });
});
