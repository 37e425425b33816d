import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountsPipeline } from '../support/debezium/accounts-pipeline.ts';
import { CapturedTable } from '../support/debezium/connect.ts';
import { stack } from '../support/fault-run.ts';
import { createTestPipeline, readTopic, waitFor, type TestPipeline } from '../support/pipeline.ts';
import { createTestDatabase, uniqueName, type TestDatabase } from '../support/stack.ts';
import { startTestStage, stopStageProcesses, type StageProcess } from '../support/stage-process.ts';

const file = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const MUTATIONS = 10_000;
const IDS = 300;

/** A deterministic stream of numbers in [0, 1) (mulberry32): the workload is the same every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const columns = 'id, owner, balance, opened, updated_at, visits';

/**
 * A database's changes, captured by Debezium's MariaDB connector on Kafka
 * Connect, through extract, load and transform: after a random workload of
 * inserts, updates and deletes (rows deleted and inserted again; BIGINTs at
 * ±(2^63 − 1) and DATETIME(6)s in the year 9999 among them, which Debezium's
 * JSON writes as numbers past 2^53), with the
 * Connect worker killed and restarted and a load member killed and replaced
 * in the middle, the staging and model tables equal the source table, row for
 * row, and an aggregate of the model table (per opening date, which updates
 * change) equals GROUP BY over the source table.
 */
describe('fault: Debezium change events from MariaDB, the connector and a stage restarted', () => {
  let source: TestDatabase;
  let t: TestPipeline;
  let captured: CapturedTable;
  const members: StageProcess[] = [];

  beforeAll(async () => {
    await stack('start', 'connect');
    source = await createTestDatabase();
    const database = new URL(source.url).pathname.slice(1);
    captured = new CapturedTable({ mysqlUrl: source.url, database, table: 'accounts', prefix: uniqueName('dbz').replace(/_/g, '-') });
    t = await createTestPipeline(accountsPipeline(4, captured.topic));
    await source.pool.query(
      `CREATE TABLE accounts (id INT PRIMARY KEY, owner VARCHAR(64) NOT NULL, balance DECIMAL(12,2) NOT NULL,
         opened DATE NULL, updated_at DATETIME(6) NULL, visits BIGINT NOT NULL)`,
    );
  }, 600_000);

  afterAll(async () => {
    await stopStageProcesses(members);
    await captured?.delete();
    await t?.cleanup();
    await source?.drop();
  });

  it(`ends with staging and model tables equal to the source table after ${MUTATIONS.toLocaleString('en')} mutations`, async () => {
    const next = random(20_261_202);
    const live = new Set<number>();
    const mutate = async (id: number) => {
      const values = [
        `owner-${Math.floor(next() * 1e6)}`,
        (Math.floor(next() * 2e8) - 1e8) / 100,
        next() < 0.2 ? null : `20${10 + Math.floor(next() * 15)}-0${1 + Math.floor(next() * 9)}-1${Math.floor(next() * 9)}`,
        next() < 0.1
          ? null
          : next() < 0.05
            ? // Past the year 2255 a DATETIME(6)'s microseconds since the epoch pass 2^53: Debezium writes them as a JSON number.
              '9999-12-31 23:59:59.999999'
            : `2026-12-02 10:${String(Math.floor(next() * 60)).padStart(2, '0')}:00.${String(Math.floor(next() * 1e6)).padStart(6, '0')}`,
        // BIGINT at its edges (±(2^63 − 1)), which a double would change, now and then.
        next() < 0.05 ? (next() < 0.5 ? '9223372036854775807' : '-9223372036854775807') : Math.floor(next() * 2 ** 40),
      ];
      if (!live.has(id)) {
        await source.pool.query(`INSERT INTO accounts (${columns}) VALUES (?, ?, ?, ?, ?, ?)`, [id, ...values]);
        live.add(id);
      } else if (next() < 0.25) {
        await source.pool.query('DELETE FROM accounts WHERE id = ?', [id]);
        live.delete(id);
      } else {
        await source.pool.query('UPDATE accounts SET owner = ?, balance = ?, opened = ?, updated_at = ?, visits = ? WHERE id = ?', [...values, id]);
      }
    };
    // Rows before the connector starts reach kelt as its snapshot (op r).
    for (let id = 1; id <= 100; id++) await mutate(id);
    await captured.start();
    for (const stage of ['extract', 'load', 'transform'] as const) {
      const member = startTestStage(stage, t.specPath, t.endpoints, `${t.pipeline.name}-${stage}`);
      members.push(member);
      await member.joined();
    }

    for (let n = 100; n < MUTATIONS; n++) {
      await mutate(1 + Math.floor(next() * IDS));
      if (n === 3_000) {
        // The worker dies without flushing its last offsets: the connector resends what followed them.
        await captured.streamingOffsetCommitted();
        await stack('kill', 'connect');
        await stack('start', 'connect');
        await captured.start();
      }
      if (n === 6_000) {
        const load = members.find((member) => member.stage === 'load' && member.running)!;
        await load.signal('SIGKILL');
        const replacement = startTestStage('load', t.specPath, t.endpoints, `${t.pipeline.name}-load-2`);
        members.push(replacement);
      }
    }

    const sourceRows = async () => (await source.pool.query(`SELECT ${columns} FROM accounts ORDER BY id`))[0];
    const stagedRows = async () => (await t.db.pool.query(`SELECT ${columns} FROM stg_accounts ORDER BY id`))[0];
    const modelRows = async () =>
      (await t.db.pool.query(`SELECT account_id AS id, owner, balance, opened, updated_at, visits FROM fct_accounts ORDER BY account_id`))[0];
    const expected = await sourceRows();
    expect((expected as unknown[]).length).toBe(live.size);
    const equal = async (rows: () => Promise<unknown>) => JSON.stringify(await rows()) === JSON.stringify(expected);
    await waitFor('the staging table equal to the source table', () => equal(stagedRows), 240_000).catch(async (error: unknown) => {
      expect(await stagedRows()).toEqual(expected);
      throw error;
    });
    await waitFor('the model table equal to the source table', () => equal(modelRows), 120_000).catch(async (error: unknown) => {
      expect(await modelRows()).toEqual(expected);
      throw error;
    });
    expect(await stagedRows()).toEqual(expected);
    expect(await modelRows()).toEqual(expected);
    const [grouped] = await source.pool.query(
      `SELECT opened, COUNT(*) AS accounts, CAST(SUM(visits) AS CHAR) AS visits, COUNT(DISTINCT owner) AS owners, MAX(visits) AS most_visits
         FROM accounts GROUP BY opened ORDER BY opened`,
    );
    const [aggregated] = await t.db.pool.query(
      'SELECT opened, accounts, CAST(visits AS CHAR) AS visits, owners, most_visits FROM agg_accounts_by_opened ORDER BY opened',
    );
    expect((grouped as unknown[]).length).toBeGreaterThan(50);
    expect(aggregated).toEqual(grouped);
    expect(await readTopic(t.connections.kafka, t.pipeline.topics.dlq)).toHaveLength(0);

    // Debezium did the capturing: the snapshot's reads, then a change event per mutation (more where the killed worker resent some), a tombstone per delete.
    const ops = new Map<string, number>();
    for (const record of await readTopic(t.connections.kafka, t.pipeline.topics.raw)) {
      const op = record.value === null ? 'tombstone' : (JSON.parse(record.value.toString('utf8')) as { payload: { op: string } }).payload.op;
      ops.set(op, (ops.get(op) ?? 0) + 1);
    }
    expect(ops.get('r')).toBeGreaterThanOrEqual(100);
    expect((ops.get('c') ?? 0) + (ops.get('u') ?? 0) + (ops.get('d') ?? 0)).toBeGreaterThanOrEqual(MUTATIONS - 100);
    expect(ops.get('tombstone')).toBeGreaterThanOrEqual(ops.get('d')! > 0 ? 1 : 0);
    // What the run counted, for the record (CI keeps test-results/).
    mkdirSync(file('../../test-results'), { recursive: true });
    writeFileSync(
      file('../../test-results/debezium-capture.json'),
      `${JSON.stringify({ mutations: MUTATIONS, sourceRows: (expected as unknown[]).length, changeEvents: Object.fromEntries(ops) })}\n`,
    );
  });
});
