import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { produceEvents } from '../../src/produce/produce.ts';
import { countRows, createTestPipeline, readTopic, waitFor, type TestPipeline } from '../support/pipeline.ts';
import { startTestStage, stopStageProcesses, type StageProcess } from '../support/stage-process.ts';

/**
 * A grant revoked under a running stage: load, connected as a MySQL user of
 * its own, loses INSERT on the staging table. It must not retry for ever
 * looking healthy, nor drop or dead-letter the batch: it ends with exit 1
 * and the reason, and once the grant is back a new load process stages
 * every record exactly once.
 */
const BEFORE = 300;
const DURING = 300;

function events(first: number, count: number) {
  return (async function* () {
    for (let n = first; n < first + count; n++) {
      yield {
        eventId: `ev-${n}`,
        userId: `u${n % 13}`,
        url: `https://shop.example/p/${n}`,
        referrer: null,
        userAgent: 'Mozilla/5.0',
        ip: '192.0.2.1',
        ts: 1_767_225_600_000 + n,
      };
    }
  })();
}

describe('fault: a MySQL grant revoked under the load stage', () => {
  let t: TestPipeline | undefined;
  const processes: StageProcess[] = [];
  let dropUser: (() => Promise<unknown>) | undefined;
  afterEach(async () => {
    await stopStageProcesses(processes);
    await dropUser?.();
    await t?.cleanup();
    t = undefined;
  });

  it('exits 1 naming the refused grant, without writing, dropping or dead-lettering, and a restart after the grant returns stages everything once', async () => {
    t = await createTestPipeline();
    const db = t.db;
    const database = new URL(db.url).pathname.slice(1);
    const user = `kelt_load_${randomBytes(3).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await db.pool.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'`);
    dropUser = () => db.pool.query(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`);
    // Table grants, not the database's: a connection reads database grants once, at USE; table grants per statement.
    await db.pool.query(`GRANT SELECT ON \`${database}\`.* TO '${user}'@'127.0.0.1'`);
    const [tables] = await db.pool.query('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()');
    for (const { name } of tables as Array<{ name: string }>) {
      await db.pool.query(`GRANT INSERT, UPDATE, DELETE ON \`${database}\`.\`${name}\` TO '${user}'@'127.0.0.1'`);
    }
    const loadUrl = new URL(db.url);
    loadUrl.username = user;
    loadUrl.password = password;
    const loadEndpoints = { ...t.endpoints, mysqlUrl: loadUrl.toString() };

    await Promise.all([t.start('extract'), t.start('transform')]);
    const load = startTestStage('load', t.specPath, loadEndpoints, `${t.pipeline.name}-load-granted`);
    processes.push(load);
    await load.joined();
    await produceEvents(t.pipeline, events(0, BEFORE), t.connections, { batchSize: 50 });
    await waitFor('the first records staged', async () => (await countRows(db, 'stg_pageviews')) >= BEFORE);

    await db.pool.query(`REVOKE INSERT ON \`${database}\`.\`stg_pageviews\` FROM '${user}'@'127.0.0.1'`);
    await produceEvents(t.pipeline, events(BEFORE, DURING), t.connections, { batchSize: 50 });
    const exit = await load.exit();
    expect(exit.code).toBe(1);
    expect(load.logTail(20_000)).toMatch(
      /ER_TABLEACCESS_DENIED_ERROR: INSERT command denied to user 'kelt_load_\w+'@'127\.0\.0\.1' for table .*stg_pageviews/,
    );
    expect(await countRows(db, 'stg_pageviews')).toBe(BEFORE);

    await db.pool.query(`GRANT INSERT ON \`${database}\`.\`stg_pageviews\` TO '${user}'@'127.0.0.1'`);
    const restarted = startTestStage('load', t.specPath, loadEndpoints, `${t.pipeline.name}-load-regranted`);
    processes.push(restarted);
    await waitFor('every record modeled', async () => (await countRows(db, 'fct_pageviews')) >= BEFORE + DURING);
    expect(await countRows(db, 'stg_pageviews')).toBe(BEFORE + DURING);
    expect(await countRows(db, 'fct_pageviews')).toBe(BEFORE + DURING);
    expect(await readTopic(t.connections.kafka, t.pipeline.topics.loaded)).toHaveLength(BEFORE + DURING);
    expect(await readTopic(t.connections.kafka, t.pipeline.topics.dlq)).toHaveLength(0);
    expect(restarted.running).toBe(true);
  });
});
