import { openClusterAdmin } from '../../src/kafka/cluster-admin.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempFile } from '../support/temp-file.ts';
import { describe, expect, it } from 'vitest';
import { createIdempotentProducer } from '../../src/kafka/record-producer.ts';
import { stageLag } from '../../src/status/lag.ts';
import type { StageName } from '../../src/pipeline/topology.ts';
import { createTestPipeline, readTopic, waitFor } from '../support/pipeline.ts';
import { startTestStage, type StageProcess } from '../support/stage-process.ts';

/**
 * Upserts and deletes of the same keys, interleaved (a field that says
 * delete, and tombstones), with load and then transform killed (-9) and
 * restarted mid-run. The final tables must equal the state the test
 * computes from what it produced: deletes and upserts of a key apply in
 * their order, exactly once.
 */
const KEYS = 2_000;
const ROUNDS = 6;

const schema = {
  type: 'record',
  name: 'Order',
  namespace: 'test.deletes',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customerId', type: 'string' },
    { name: 'qty', type: 'int' },
    { name: 'op', type: ['null', 'string'], default: null },
  ],
};
const transformSource = `
export default (r) => ({ fct_orders: { order_id: r.orderId, customer_id: r.customerId, qty: r.qty } });
export function remove(r) { return { fct_orders: { order_id: r.orderId } }; }
`;

type Operation = { kind: 'upsert'; qty: number } | { kind: 'delete-field' } | { kind: 'tombstone' };

/** Round r's operation on key k: mostly upserts, with both kinds of delete, and upserts after deletes. */
function operation(round: number, key: number): Operation {
  const pick = (key * 7 + round * 13) % 10;
  if (pick === 0) return { kind: 'delete-field' };
  if (pick === 1) return { kind: 'tombstone' };
  return { kind: 'upsert', qty: round * 10_000 + key };
}

describe('fault: deletes and upserts of the same keys through kill -9 of load and transform', () => {
  it('leaves exactly the state the operations’ order gives, in staging and the model', async () => {
    const t = await createTestPipeline({
      source: { format: 'avro', schema: tempFile('order.avsc', JSON.stringify(schema)), keyField: 'orderId' },
      staging: { table: 'stg_orders', primaryKey: ['orderId'], delete: { field: 'op', equals: 'd' } },
      transform: {
        module: tempFile('transform.mjs', transformSource),
        tables: [{ name: 'fct_orders', primaryKey: ['order_id'], columns: { order_id: 'varchar(32)', customer_id: 'varchar(32)', qty: 'int' } }],
      },
      consumer: { sessionTimeoutMs: 10_000 },
    } as never);
    const members: StageProcess[] = [];
    const start = async (stage: StageName, n: number) => {
      const member = startTestStage(stage, t.specPath, t.endpoints, `${t.pipeline.name}-${stage}-${n}`);
      members.push(member);
      await member.joined();
      return member;
    };
    try {
      const running = new Map<StageName, StageProcess>();
      for (const stage of ['extract', 'load', 'transform'] as const) running.set(stage, await start(stage, 1));

      const expected = new Map<string, number>();
      const id = await t.connections.registry.registerAvro(`${t.pipeline.topics.raw}-value`, schema);
      const producer = createIdempotentProducer(t.connections.kafka);
      await producer.connect();
      const producing = (async () => {
        for (let round = 0; round < ROUNDS; round++) {
          const messages = [];
          for (let key = 0; key < KEYS; key++) {
            const orderId = `o${key}`;
            const op = operation(round, key);
            if (op.kind === 'upsert') expected.set(orderId, op.qty);
            else expected.delete(orderId);
            const value =
              op.kind === 'tombstone'
                ? null
                : await t.connections.registry.encodeAvro(id, {
                    orderId,
                    customerId: `c${key % 50}`,
                    qty: op.kind === 'upsert' ? op.qty : -1,
                    op: op.kind === 'delete-field' ? 'd' : null,
                  });
            messages.push({ key: orderId, value });
          }
          for (let i = 0; i < messages.length; i += 500) {
            await producer.send({ topic: t.pipeline.topics.raw, messages: messages.slice(i, i + 500) });
            await sleep(150);
          }
        }
      })();
      const produced = producing.then(
        () => undefined,
        (error: unknown) => error,
      );

      for (const [stage, at] of [
        ['load', 3_000],
        ['transform', 4_000],
      ] as const) {
        await sleep(at);
        await running.get(stage)!.signal('SIGKILL');
        running.set(stage, await start(stage, 2));
      }
      const failure = await produced;
      await producer.disconnect();
      if (failure !== undefined) throw failure;

      const admin = await openClusterAdmin(t.connections.kafka);
      await waitFor(
        'every stage to catch up',
        async () => {
          for (const stage of ['extract', 'load', 'transform'] as const) if ((await stageLag(admin, t.pipeline, stage)).lag > 0) return false;
          return true;
        },
        240_000,
      );
      await admin.close();

      const table = async (sql: string) =>
        new Map(((await t.db.pool.query(sql))[0] as Array<{ id: string; qty: number }>).map((row) => [row.id, row.qty]));
      const staged = await table('SELECT order_id AS id, qty FROM stg_orders');
      const modeled = await table('SELECT order_id AS id, qty FROM fct_orders');
      expect(staged.size).toBe(expected.size);
      expect(staged).toEqual(expected);
      expect(modeled).toEqual(expected);
      expect(await readTopic(t.connections.kafka, t.pipeline.topics.dlq)).toHaveLength(0);
    } finally {
      await Promise.all(members.filter((member) => member.running).map((member) => member.stopWithin(35_000)));
      await t.cleanup();
    }
  });
});
