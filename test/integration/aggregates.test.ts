import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { migrate } from '../../src/migrate/migrate.ts';
import { loadPipeline, type PipelineSpecInput } from '../../src/pipeline/spec.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produceEvents } from '../../src/produce/produce.ts';
import { replayTransform } from '../../src/replay/replay-command.ts';
import { startStage, type RunningStage } from '../../src/stages/start-stage.ts';
import { aggregateMismatches, aggregatesIn, expectedAggregates } from '../support/aggregates.ts';
import { originOf } from '../../src/records/record-origin.ts';
import { countRows, createTestPipeline, waitCaughtUp, readTopic, writeAgain, type TestPipeline } from '../support/pipeline.ts';

/**
 * The example pipeline's aggregates (page views per host, path and hour;
 * daily active users) on the real stack, against the same aggregates
 * computed here from the events: events spread over three days of event
 * time and sent out of order by up to 60 hours, batches written twice,
 * then replays from the beginning (over the copies too) and from a
 * timestamp, then late events after the replay.
 */
const HOUR = 3_600_000;
const base = Date.UTC(2026, 10, 20, 0, 0, 0);

function event(i: number, ts: number) {
  const paths = ['/', '/products', '/products/shoes', '/cart', '/checkout'];
  return {
    eventId: `agg-${i}`,
    userId: `u${(i * 7919) % 211}`,
    url: `https://${i % 3 === 0 ? 'Shop' : 'blog'}.Example.com${paths[(i * 31) % paths.length]}?utm_source=s${i % 4}`,
    referrer: null,
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    ip: `203.0.113.${i % 256}`,
    ts,
  };
}

/** `count` events whose event times are spread over 60 hours and shuffled (a fixed permutation). */
function outOfOrder(first: number, count: number) {
  const events = Array.from({ length: count }, (_, i) => event(first + i, base + (((first + i) * 104_729) % (60 * HOUR))));
  return events.map((_, i) => events[(i * 7_919) % count]!);
}

describe('aggregates into MySQL', () => {
  let t: TestPipeline;
  let transform: RunningStage | undefined;
  const sent: ReturnType<typeof event>[] = [];

  beforeAll(async () => {
    t = await createTestPipeline();
  });
  afterAll(async () => {
    await transform?.stop();
    await t?.cleanup();
  });

  const produce = async (events: ReturnType<typeof event>[]) => {
    sent.push(...events);
    await produceEvents(
      t.pipeline,
      (async function* () {
        yield* events;
      })(),
      t.connections,
    );
  };
  const caughtUp = () => waitCaughtUp(t);

  const expectExact = async () => expect(aggregateMismatches(expectedAggregates(sent), await aggregatesIn(t.db))).toEqual([]);
  /** The transform stops on its first assignment, naming the aggregate its tables do not fit. */
  const expectRefused = async (pipeline: typeof t.pipeline, why: RegExp) => {
    const refused = await startStage('transform', pipeline, t.connections);
    try {
      expect((await refused.runner.failed()).message).toMatch(why);
    } finally {
      await refused.stop();
    }
  };
  const replay = async (from: Parameters<typeof replayTransform>[2]) => {
    await transform?.stop();
    transform = undefined;
    const lines: string[] = [];
    await replayTransform(t.pipeline, t.connections, from, { run: true, say: (line) => lines.push(line) });
    expect(lines.at(-1)).toMatch(/^replay done/);
    return lines;
  };

  it('counts each event once, in its event-time window, however late it arrives', async () => {
    await Promise.all([t.start('extract'), t.start('load')]);
    transform = await startStage('transform', t.pipeline, t.connections);
    await produce(outOfOrder(0, 3_000));
    await caughtUp();
    await expectExact();
    const expected = expectedAggregates(sent);
    expect(expected.daily.size).toBe(3);
    expect(expected.hourly.size).toBeGreaterThan(300);
  });

  it.each([
    ['loaded', 3],
    ['extracted', 5],
  ] as const)('counts a batch written twice into the %s topic once, recognising the copies by their raw origin', async (topicOf, partition) => {
    let repeated = 0;
    const count = ({ report }: { report: { repeated?: number } }) => void (repeated += report.repeated ?? 0);
    transform!.runner.events.on('batch', count);
    const topic = t.pipeline.topics[topicOf];
    const copies = (await readTopic(t.connections.kafka, topic)).filter((record) => record.partition === partition).slice(50, 150);
    expect(copies.length).toBe(100);
    expect(copies.every((record) => originOf(record) !== undefined)).toBe(true);
    await writeAgain(t.connections.kafka, topic, copies);
    await caughtUp();
    transform!.runner.events.off('batch', count);
    await expectExact();
    expect(repeated).toBe(copies.length);
  });

  it('rebuilds the aggregates from the model table on a replay from the beginning, counting nothing twice', async () => {
    const lines = await replay({ kind: 'beginning' });
    expect(lines[0]).toBe('rebuilt agg_pageviews_hourly, agg_daily_active_users from 3,000 rows of fct_pageviews');
    // Offsets: the loaded topic holds 3,000 records and load's transaction markers.
    expect(lines.at(-2)).toMatch(/^replayed ([\d,]+) of \1 offsets/);
    await expectExact();
  });

  it('replays from a timestamp or from offsets, and late events still count after the replay', async () => {
    const lines = await replay({ kind: 'timestamp', ms: Date.now() - 60_000 });
    expect(lines[1]).toMatch(/^replaying .* from offsets/);
    await expectExact();
    await replay({ kind: 'offsets', offsets: new Map([[0, 5n]]) });
    await expectExact();
    transform = await startStage('transform', t.pipeline, t.connections);
    await produce(outOfOrder(3_000, 500));
    await caughtUp();
    await expectExact();
  });

  it("feeds the Grafana dashboard's aggregate tables: its SQL runs and finds rows", async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../docker/monitoring/kelt-dashboard.json', import.meta.url), 'utf8')) as {
      panels: Array<{ title: string; targets?: Array<{ rawSql?: string }> }>;
    };
    const queries = dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).flatMap((target) => (target.rawSql === undefined ? [] : [target.rawSql])),
    );
    expect(queries).toHaveLength(2);
    for (const sql of queries) {
      const [rows] = await t.db.pool.query(sql);
      expect((rows as unknown[]).length, sql).toBeGreaterThan(0);
    }
  });

  it('refuses a changed definition in migrate and the transform until kelt replay --aggregates-only rebuilds it', async () => {
    await transform?.stop();
    transform = undefined;
    const spec = parseYaml(readFileSync(t.specPath, 'utf8')) as PipelineSpecInput;
    spec.transform.aggregates = spec.transform.aggregates!.map((aggregate) =>
      aggregate.name === 'agg_daily_active_users' ? { ...aggregate, measures: { ...aggregate.measures, first_view: 'min(event_time)' } } : aggregate,
    );
    const changedPath = join(dirname(t.specPath), 'changed.yaml');
    writeFileSync(changedPath, stringifyYaml(spec));
    const changed = loadPipeline(changedPath);
    const pool = t.connections.mysql();
    try {
      await expect(migrate(changed, { ...t.connections, mysql: pool })).rejects.toThrow(/--aggregates-only/);
      await expectRefused(changed, /agg_daily_active_users was built for another definition/);
      const lines: string[] = [];
      await replayTransform(changed, t.connections, undefined, { run: false, say: (line) => lines.push(line) });
      expect(lines).toEqual(['rebuilt agg_pageviews_hourly, agg_daily_active_users from 3,500 rows of fct_pageviews']);
      await migrate(changed, { ...t.connections, mysql: pool });
    } finally {
      await pool.end();
    }
    const [rows] = await t.db.pool.query(
      `SELECT COUNT(*) AS n FROM agg_daily_active_users a
        WHERE first_view <=> (SELECT MIN(event_time) FROM fct_pageviews WHERE event_time >= a.day AND event_time < a.day + INTERVAL 1 DAY)`,
    );
    expect(Number((rows as Array<{ n: number }>)[0]!.n)).toBe(3);
    transform = await startStage('transform', changed, t.connections);
    await expectExact();
  });

  it('migrates an aggregate table from before views: rows kept, new columns added, the transform waits for a rebuild', async () => {
    await transform?.stop();
    transform = undefined;
    // Back to the example's definitions (the test before changed one).
    await replayTransform(t.pipeline, t.connections, undefined, { run: false, say: () => undefined });
    // The shape kelt gave it before: no comment, no row counts.
    await t.db.pool.query("ALTER TABLE agg_pageviews_hourly COMMENT = '', DROP COLUMN kelt_rows");
    const before = await countRows(t.db, 'agg_pageviews_hourly');
    const pool = t.connections.mysql();
    try {
      const report = await migrate(t.pipeline, { ...t.connections, mysql: pool });
      expect(report.tableChanges).toContain('agg_pageviews_hourly: added kelt_rows BIGINT');
      expect(report.tableChanges.some((change) => /agg_pageviews_hourly: counted by kelt's rules before aggregates were views/.test(change))).toBe(
        true,
      );
    } finally {
      await pool.end();
    }
    expect(await countRows(t.db, 'agg_pageviews_hourly')).toBe(before);
    await expectRefused(t.pipeline, /agg_pageviews_hourly was built for another definition/);
    await replayTransform(t.pipeline, t.connections, undefined, { run: false, say: () => undefined });
    transform = await startStage('transform', t.pipeline, t.connections);
    await expectExact();
  });

  it('refuses to replay while the transform group has members', async () => {
    await expect(replayTransform(t.pipeline, t.connections, { kind: 'beginning' }, { run: true, say: () => undefined })).rejects.toThrow(
      /has 1 member\(s\).*stop them/,
    );
    await expectExact();
  });
});
