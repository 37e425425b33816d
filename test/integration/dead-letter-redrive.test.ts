import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { listDeadLetters, showDeadLetter } from '../../src/dead-letters/dlq-listing.ts';
import { redriveDeadLetters } from '../../src/dead-letters/dlq-redrive.ts';
import { migrate } from '../../src/migrate/migrate.ts';
import { loadPipeline, type Pipeline } from '../../src/pipeline/spec.ts';
import { StaleBatchError, TransientError } from '../../src/errors.ts';
import { produceEvents } from '../../src/produce/produce.ts';
import { startStage, type RunningStage } from '../../src/stages/start-stage.ts';
import { countRows, createTestPipeline, readTopic, waitFor, type TestPipeline } from '../support/pipeline.ts';

/**
 * The way back from the DLQ: records refused by a column too narrow for
 * them are redriven after `kelt migrate` widens it, and land exactly once,
 * however often the redrive runs.
 */
const EVENTS = 240;
const LONG_EVERY = 20;

function event(n: number) {
  return {
    eventId: `ev-${n}`,
    userId: `u${n % 11}`,
    url: `https://shop.example/p/${n}`,
    referrer: null,
    userAgent: n % LONG_EVERY === 3 ? `Mozilla/5.0 (X11; Linux x86_64; agent ${n}) AppleWebKit/537.36` : 'Mozilla/5.0',
    ip: '192.0.2.1',
    ts: 1_767_225_600_000 + n,
  };
}

describe('kelt dlq', () => {
  let t: TestPipeline | undefined;
  const stages: RunningStage[] = [];
  afterEach(async () => {
    await Promise.all(stages.splice(0).map((stage) => stage.stop()));
    await t?.cleanup();
    t = undefined;
  });

  /** A pipeline whose staging column is too narrow for every LONG_EVERY-th of `events` events: they are dead-lettered by load. */
  async function narrowColumnLetters(events: number): Promise<{ long: number; narrowLoad: RunningStage }> {
    t = await createTestPipeline({
      staging: { table: 'stg_pageviews', primaryKey: ['eventId'], columns: { url: 'text', userAgent: 'varchar(20)' } } as never,
    });
    const long = Array.from({ length: events }, (_, n) => n).filter((n) => n % LONG_EVERY === 3).length;
    await Promise.all([t.start('extract'), t.start('transform')]);
    const narrowLoad = await t.start('load');
    await produceEvents(
      t.pipeline,
      (async function* () {
        for (let n = 0; n < events; n++) yield event(n);
      })(),
      t.connections,
      { batchSize: 50 },
    );
    await waitFor('the short records modeled', async () => (await countRows(t!.db, 'fct_pageviews')) >= events - long);
    await waitFor('the long ones dead-lettered', async () => (await readTopic(t!.connections.kafka, t!.pipeline.topics.dlq)).length >= long);
    return { long, narrowLoad };
  }

  /** The fix: the column widened in the spec, migrated, and load restarted with the spec that has it. */
  async function widen(narrowLoad: RunningStage): Promise<Pipeline> {
    await narrowLoad.stop();
    const spec = parseYaml(readFileSync(t!.specPath, 'utf8')) as { staging: { columns: Record<string, string> } };
    spec.staging.columns.userAgent = 'varchar(1024)';
    writeFileSync(t!.specPath, stringifyYaml(spec));
    const widened = loadPipeline(t!.specPath);
    const pool = t!.connections.mysql();
    const report = await migrate(widened, { ...t!.connections, mysql: pool });
    await pool.end();
    expect(report.tableChanges.join('\n')).toMatch(/stg_pageviews: widened user_agent from varchar\(20\) to VARCHAR\(1024\)/i);
    stages.push(await startStage('load', widened, t!.connections));
    return widened;
  }

  /** How often each dead letter (DLQ partition@offset) is in the extracted topic again. */
  async function redrivenCopies(): Promise<Map<string, number>> {
    const copies = new Map<string, number>();
    for (const record of await readTopic(t!.connections.kafka, t!.pipeline.topics.extracted)) {
      const from = record.headers?.['kelt.redriven.from']?.toString();
      if (from !== undefined) copies.set(from, (copies.get(from) ?? 0) + 1);
    }
    return copies;
  }

  it('lists and shows the letters of a too-narrow column, redrives them after migrate widens it, and they land exactly once', async () => {
    const { long, narrowLoad } = await narrowColumnLetters(EVENTS);
    if (t === undefined) throw new Error('narrowColumnLetters sets up the pipeline');

    const before = await listDeadLetters(t.pipeline, t.connections, {}, 5);
    expect(before.matched).toBe(long);
    expect(Object.fromEntries(before.counts)).toEqual({ 'load/row_rejected': { waiting: long, redriven: 0, 'not redrivable': 0 } });
    expect(before.letters).toHaveLength(5);
    const first = before.letters[0]!.letter;
    const shown = await showDeadLetter(t.pipeline, t.connections, first.partition, first.offset);
    expect(shown).toContain('userAgent');
    expect(shown).toMatch(/"eventId": "ev-\d+"/);
    expect(shown).toContain(`from:      ${t.pipeline.topics.extracted}[${first.original!.partition}]@${first.original!.offset}`);

    const widened = await widen(narrowLoad);

    const redriven = await redriveDeadLetters(widened, t.connections, {}, () => undefined);
    expect(redriven).toEqual({ redriven: long, alreadyRedriven: 0, notRedrivable: [], leftForLater: 0 });
    await waitFor('every record modeled', async () => (await countRows(t!.db, 'fct_pageviews')) >= EVENTS);
    // A second redrive finds nothing left to send.
    expect(await redriveDeadLetters(widened, t.connections, {}, () => undefined)).toEqual({
      redriven: 0,
      alreadyRedriven: long,
      notRedrivable: [],
      leftForLater: 0,
    });

    const after = await listDeadLetters(widened, t.connections, {}, 100);
    expect(Object.fromEntries(after.counts)).toEqual({ 'load/row_rejected': { waiting: 0, redriven: long, 'not redrivable': 0 } });
    const copies = await redrivenCopies();
    expect([...copies.values()]).toEqual(Array(long).fill(1));
    expect(await countRows(t.db, 'stg_pageviews')).toBe(EVENTS);
    expect(await countRows(t.db, 'fct_pageviews')).toBe(EVENTS);
    const [agents] = await t.db.pool.query("SELECT COUNT(*) AS n FROM stg_pageviews WHERE user_agent LIKE 'Mozilla/5.0 (X11%'");
    expect(Number((agents as Array<{ n: number }>)[0]!.n)).toBe(long);
    expect(await readTopic(t.connections.kafka, t.pipeline.topics.dlq)).toHaveLength(long);
  });

  it('redrives each letter once when three redrives run at once (the later fence the earlier) and a fourth finishes what the stopped ones left', async () => {
    const events = 2_400;
    const { long, narrowLoad } = await narrowColumnLetters(events);
    const widened = await widen(narrowLoad);
    const runs = await Promise.allSettled([1, 2, 3].map(() => redriveDeadLetters(widened, t!.connections, {}, () => undefined)));
    const sent = runs.reduce((sum, run) => sum + (run.status === 'fulfilled' ? run.value.redriven : 0), 0);
    // A redrive another one fenced stops: fenced outright, or its commit left without an answer (settled by the next one).
    for (const run of runs)
      if (run.status === 'rejected')
        expect(run.reason instanceof StaleBatchError || run.reason instanceof TransientError, String(run.reason)).toBe(true);
    const last = await redriveDeadLetters(widened, t!.connections, {}, () => undefined);
    expect(last.alreadyRedriven + last.redriven).toBe(long);
    expect(sent + last.redriven).toBeLessThanOrEqual(long);
    await waitFor('every record modeled', async () => (await countRows(t!.db, 'fct_pageviews')) >= events);
    const copies = await redrivenCopies();
    expect(copies.size).toBe(long);
    expect([...copies.values()].every((count) => count === 1)).toBe(true);
    expect(await countRows(t!.db, 'stg_pageviews')).toBe(events);
    expect(await countRows(t!.db, 'fct_pageviews')).toBe(events);
  });
});
