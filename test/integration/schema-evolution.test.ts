import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { tempFile } from '../support/temp-file.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { migrate } from '../../src/migrate/migrate.ts';
import { produceEvents } from '../../src/produce/produce.ts';
import { loadPipeline, type Pipeline } from '../../src/pipeline/spec.ts';
import { startStage, type RunningStage } from '../../src/stages/start-stage.ts';
import { countRows, createTestPipeline, readTopic, waitFor, type TestPipeline } from '../support/pipeline.ts';

/**
 * A producer moves to a new, compatible version of the source schema while
 * the stages run; then the spec is updated, migrated and the stages rolled.
 * Nothing stops, nothing is dead-lettered, no record is lost; an
 * incompatible version is refused by `kelt migrate`, naming the field.
 */
const v1 = {
  type: 'record',
  name: 'Order',
  namespace: 'test.evolution',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'qty', type: 'int' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};
// Added with a default, widened int → long, optional field removed.
const v2 = { ...v1, fields: [v1.fields[0], { name: 'qty', type: 'long' }, { name: 'currency', type: 'string', default: 'EUR' }] };
// A type Avro cannot read the old values as, and a field without a default.
const v3 = { ...v1, fields: [v1.fields[0], { name: 'qty', type: 'string' }, { name: 'region', type: 'string' }] };

const transformSource = `export default (r) => ({ fct_orders: { order_id: r.orderId, qty: r.qty, currency: r.currency ?? null } });`;
const modelV1 = { name: 'fct_orders', primaryKey: ['order_id'], columns: { order_id: 'varchar(64)', qty: 'int', currency: 'varchar(3)' } };
const modelV2 = { ...modelV1, columns: { ...modelV1.columns, qty: 'long' } };

/** The test pipeline's spec with another source schema and model table, as a user edits it. */
function specWith(t: TestPipeline, schema: object, model: object): Pipeline {
  const document = parseYaml(readFileSync(t.specPath, 'utf8')) as Record<string, Record<string, unknown>>;
  document.source = { ...document.source, schema: tempFile('order.avsc', JSON.stringify(schema)) };
  document.transform = { ...document.transform, tables: [model] };
  return loadPipeline(tempFile('pipeline.yaml', stringifyYaml(document)));
}

async function produce(pipeline: Pipeline, t: TestPipeline, events: Array<Record<string, unknown>>): Promise<void> {
  await produceEvents(
    pipeline,
    (async function* () {
      yield* events;
    })(),
    t.connections,
  );
}

describe('schema evolution', () => {
  let t: TestPipeline | undefined;
  const running: RunningStage[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((stage) => stage.stop()));
    await t?.cleanup();
    t = undefined;
  });

  it('keeps every record through a new producer version, the migration and the roll, and refuses an incompatible one', async () => {
    t = await createTestPipeline({
      source: { format: 'avro', schema: tempFile('order.avsc', JSON.stringify(v1)), keyField: 'orderId' },
      staging: { table: 'stg_orders', primaryKey: ['orderId'] },
      transform: { module: tempFile('transform.mjs', transformSource), tables: [modelV1] },
    } as never);
    const pipelineV1 = t.pipeline;
    const startAll = async (pipeline: Pipeline) => {
      for (const stage of ['extract', 'load', 'transform'] as const) running.push(await startStage(stage, pipeline, t!.connections));
    };
    await startAll(pipelineV1);

    await produce(
      pipelineV1,
      t,
      Array.from({ length: 100 }, (_, i) => ({ orderId: `a${i}`, qty: i, note: 'v1' })),
    );
    // The producer moves to v2 before the pipeline does.
    const pipelineV2 = specWith(t, v2, modelV2);
    await produce(
      pipelineV2,
      t,
      Array.from({ length: 100 }, (_, i) => ({ orderId: `b${i}`, qty: 1000 + i, currency: 'NOK' })),
    );
    await waitFor('v1 and early v2 orders modeled', async () => (await countRows(t!.db, 'fct_orders')) === 200);

    // The procedure: update the spec, migrate, roll the stages.
    const report = await migrate(pipelineV2, { ...t.connections, mysql: t.db.pool });
    expect(report.tableChanges.sort()).toEqual(
      [
        'fct_orders: widened qty from int(11) to BIGINT',
        'stg_orders: added currency VARCHAR(255)',
        'stg_orders: widened qty from int(11) to BIGINT',
      ].sort(),
    );
    await Promise.all(running.splice(0).map((stage) => stage.stop()));
    await startAll(pipelineV2);
    await produce(
      pipelineV2,
      t,
      Array.from({ length: 100 }, (_, i) => ({ orderId: `c${i}`, qty: 2 ** 40 + i, currency: 'SEK' })),
    );
    await waitFor('every order modeled', async () => (await countRows(t!.db, 'fct_orders')) === 300);

    const [staged] = await t.db.pool.query(
      `SELECT LEFT(order_id, 1) AS era, COUNT(*) AS n, MIN(qty) AS low, MAX(qty) AS high, GROUP_CONCAT(DISTINCT IFNULL(currency, '-')) AS currency,
              GROUP_CONCAT(DISTINCT IFNULL(note, '-')) AS note
         FROM stg_orders GROUP BY era ORDER BY era`,
    );
    expect(staged).toEqual([
      { era: 'a', n: 100, low: 0, high: 99, currency: '-', note: 'v1' },
      // Read as v1 before the roll: the field v1 does not know is not carried (see docs/pipelines.md).
      { era: 'b', n: 100, low: 1000, high: 1099, currency: '-', note: '-' },
      { era: 'c', n: 100, low: 2 ** 40, high: 2 ** 40 + 99, currency: 'SEK', note: '-' },
    ]);
    const [modeled] = await t.db.pool.query(`SELECT COUNT(*) AS n, MAX(qty) AS high FROM fct_orders WHERE currency = 'SEK'`);
    expect(modeled).toEqual([{ n: 100, high: 2 ** 40 + 99 }]);
    expect(await readTopic(t.connections.kafka, t.pipeline.topics.dlq)).toHaveLength(0);

    const pipelineV3 = specWith(t, v3, modelV2);
    const refused = await migrate(pipelineV3, { ...t.connections, mysql: t.db.pool }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    const details = (refused as ConfigError).issues.join('\n');
    expect(details).toMatch(/field qty: long in .*-value version 2 cannot be read as string \(BACKWARD/);
    expect(details).toMatch(/field region: added without a default/);
  });
});
