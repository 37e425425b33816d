import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envOf } from '../../src/config/endpoints.ts';
import { countRows, createTestPipeline, readTopic, waitFor, type TestPipeline } from '../support/pipeline.ts';
import { StageProcess, stopStageProcesses } from '../support/stage-process.ts';
import { tempFile } from '../support/temp-file.ts';

const kelt = fileURLToPath(new URL('../../scripts/kelt', import.meta.url));
const logDir = fileURLToPath(new URL('../../test-results/stage-logs/', import.meta.url));

const source = {
  type: 'record',
  name: 'Reading',
  namespace: 'dev.kelt.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'big', type: 'long' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 30, scale: 4 } },
  ],
};

/** JSON numbers as a producer writes them: the digits are the value, whatever a double would make of them. */
const events = [
  { id: 'file-max', big: '9223372036854775807', amount: '12345678901234567.8901' },
  { id: 'file-min', big: '-9223372036854775808', amount: '-99999999999999999999999999.9999' },
  { id: 'http-snowflake', big: '1541815603606036480', amount: '0.0001' },
  { id: 'http-past-2^53', big: '9007199254740993', amount: '12345678901234567.8901' },
];
const line = ({ id, big, amount }: (typeof events)[number]) => `{"id":"${id}","big":${big},"amount":${amount}}`;

/**
 * A JSON source on the real stack, through `kelt produce --file` and `kelt
 * collect`: longs over the whole signed 64-bit range and a decimal(30,4)
 * longer than a double land digit for digit in staging; a number with more
 * places than the scale is refused by name (422 at the collector).
 */
describe('JSON numbers from their digits, on the real stack', () => {
  let t: TestPipeline;
  const processes: StageProcess[] = [];
  beforeAll(async () => {
    t = await createTestPipeline({
      partitions: 2,
      source: { format: 'json', schema: tempFile('reading.avsc', JSON.stringify(source)), keyField: 'id' } as never,
      staging: { table: 'stg_readings', primaryKey: ['id'] } as never,
      transform: {
        module: tempFile('transform.mjs', 'export default (r) => ({ fct_readings: { id: r.id } });'),
        tables: [{ name: 'fct_readings', primaryKey: ['id'], columns: { id: 'string' } }],
      } as never,
    });
    await t.start('extract');
    await t.start('load');
  });
  afterAll(async () => {
    await stopStageProcesses(processes);
    await t?.cleanup();
  });

  it('lands longs and decimals exactly from kelt produce and from the collector', async () => {
    const ndjson = tempFile('readings.ndjson', `${events.slice(0, 2).map(line).join('\n')}\n`);
    await promisify(execFile)(kelt, ['produce', '-p', t.specPath, '-f', ndjson], { env: { ...process.env, ...envOf(t.endpoints) } });

    const { mysqlUrl: _unused, ...withoutMysql } = t.endpoints;
    const collector = new StageProcess('collect', t.specPath, withoutMysql, { logFile: `${logDir}${t.pipeline.name}-collect-numbers.log` });
    processes.push(collector);
    const url = `http://127.0.0.1:${await collector.httpPort()}/events`;
    const accepted = await fetch(url, { method: 'POST', body: `[${events.slice(2).map(line).join(',')}]` });
    expect([accepted.status, await accepted.json()]).toEqual([200, { accepted: 2, refused: [] }]);
    const tooPrecise = await fetch(url, { method: 'POST', body: '{"id":"refused","big":1,"amount":0.00001}' });
    expect(tooPrecise.status).toBe(422);
    expect(await tooPrecise.json()).toMatchObject({ accepted: 0, refused: [{ index: 0, field: 'amount' }] });

    await waitFor('4 staged readings', async () => (await countRows(t.db, 'stg_readings')) === 4);
    const [rows] = await t.db.pool.query('SELECT id, CAST(big AS CHAR) AS big, CAST(amount AS CHAR) AS amount FROM stg_readings ORDER BY id');
    expect(rows).toEqual([...events].sort((a, b) => (a.id < b.id ? -1 : 1)).map(({ id, big, amount }) => ({ id, big, amount })));
    expect(await readTopic(t.connections.kafka, t.pipeline.topics.dlq)).toHaveLength(0);
  });
});
