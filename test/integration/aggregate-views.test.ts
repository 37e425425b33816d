import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { produceEvents } from '../../src/produce/produce.ts';
import { aggregateMismatches, aggregatesIn, expectedAggregates, groupedModel } from '../support/aggregates.ts';
import { countRows, createTestPipeline, waitCaughtUp, exampleSpec, type TestPipeline } from '../support/pipeline.ts';
import { startTestStage, stopStageProcesses, type StageProcess } from '../support/stage-process.ts';

/**
 * Aggregates are views of their model table, on the real stack with the
 * stages as processes: an at-least-once producer (one event in ten sent
 * twice, one in fifty re-sent later with a corrected url and time) leaves
 * every aggregate equal to GROUP BY over fct_pageviews, group for group; a
 * hopping window becomes final once the watermark passes its end plus the
 * lateness, and a late row still counts, in late_rows and the late counter.
 */
const HOUR = 3_600_000;
const MINUTE = 60_000;
const base = Date.UTC(2026, 10, 20, 0, 0, 0);
const paths = ['/', '/products', '/products/shoes', '/cart', '/checkout'];

function event(i: number, ts: number, path = paths[(i * 31) % paths.length]!) {
  return {
    eventId: `view-${i}`,
    userId: `u${(i * 7919) % 211}`,
    url: `https://${i % 3 === 0 ? 'shop' : 'blog'}.example.com${path}`,
    referrer: null,
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    ip: `203.0.113.${i % 256}`,
    ts,
  };
}
type PageView = ReturnType<typeof event>;

describe('aggregates are views of fct_pageviews (stages as processes)', () => {
  let t: TestPipeline;
  const processes: StageProcess[] = [];
  beforeAll(async () => {
    const spec = exampleSpec();
    t = await createTestPipeline({
      transform: {
        ...spec.transform,
        aggregates: [
          ...(spec.transform.aggregates ?? []),
          {
            name: 'agg_views_hopping',
            from: 'fct_pageviews',
            groupBy: ['url_host'],
            window: { column: 'event_time', size: '1h', slide: '15m', as: 'window_start' },
            lateness: '10m',
            measures: { views: 'count', visitors: 'count_distinct(user_id)', first_view: 'min(event_time)' },
          },
        ],
      },
    });
    for (const stage of ['extract', 'load', 'transform'] as const)
      processes.push(startTestStage(stage, t.specPath, t.endpoints, `aggregate-views-${stage}`));
    await Promise.all(processes.map((member) => member.joined()));
  });
  afterEach(() => {
    for (const member of processes) expect(member.running, member.logTail()).toBe(true);
  });
  afterAll(async () => {
    await stopStageProcesses(processes);
    await t?.cleanup();
  });

  const produce = (events: PageView[]) =>
    produceEvents(
      t.pipeline,
      (async function* () {
        yield* events;
      })(),
      t.connections,
    );
  const caughtUp = () => waitCaughtUp(t);

  /** The hopping aggregate as GROUP BY over fct_pageviews: window start|host → views, visitors, first view (ms). */
  const hoppingFromModel = async () => {
    const [rows] = await t.db.pool.query(
      "SELECT url_host, user_id, TIMESTAMPDIFF(MICROSECOND, '1970-01-01', event_time) DIV 1000 AS at FROM fct_pageviews",
    );
    const groups = new Map<string, { views: number; visitors: Set<string>; first: number }>();
    for (const row of rows as Array<{ url_host: string; user_id: string; at: number | string }>) {
      const at = Number(row.at);
      for (let start = Math.floor(at / (15 * MINUTE)) * 15 * MINUTE; start > at - HOUR; start -= 15 * MINUTE) {
        const group = groups.get(`${start}|${row.url_host}`) ?? { views: 0, visitors: new Set<string>(), first: at };
        group.views++;
        group.visitors.add(row.user_id);
        group.first = Math.min(group.first, at);
        groups.set(`${start}|${row.url_host}`, group);
      }
    }
    return new Map([...groups].map(([key, group]) => [key, { views: group.views, visitors: group.visitors.size, first: group.first }]));
  };
  const hoppingTable = async () => {
    const [rows] = await t.db.pool.query(
      `SELECT TIMESTAMPDIFF(MICROSECOND, '1970-01-01', window_start) DIV 1000 AS start, url_host, views, visitors,
              TIMESTAMPDIFF(MICROSECOND, '1970-01-01', first_view) DIV 1000 AS first, final, late_rows FROM agg_views_hopping`,
    );
    return rows as Array<{
      start: number | string;
      url_host: string;
      views: number;
      visitors: number;
      first: number | string;
      final: number;
      late_rows: number;
    }>;
  };
  const expectViews = async () => {
    expect(aggregateMismatches(await groupedModel(t.db), await aggregatesIn(t.db))).toEqual([]);
    const table = new Map(
      (await hoppingTable()).map((row) => [
        `${Number(row.start)}|${row.url_host}`,
        { views: Number(row.views), visitors: Number(row.visitors), first: Number(row.first) },
      ]),
    );
    expect(table).toEqual(await hoppingFromModel());
  };

  it('keeps every aggregate equal to GROUP BY over the model table under repeats and corrections', async () => {
    const events = Array.from({ length: 3_000 }, (_, i) => event(i, base + ((i * 104_729) % (30 * HOUR))));
    // One in ten sent again right away (a producer's retry); one in fifty re-sent at the end with a corrected path and time.
    const stream = events.flatMap((view, i) => (i % 10 === 0 ? [view, view] : [view]));
    const corrected = events
      .filter((_, i) => i % 50 === 7)
      .map((view, j) => ({ ...event(Number(view.eventId.slice(5)), view.ts + 2 * HOUR + j, '/corrected') }));
    await produce(stream);
    await produce(corrected);
    await caughtUp();
    expect(await countRows(t.db, 'fct_pageviews')).toBe(3_000);
    await expectViews();
    // The model table is the events' last versions: the aggregates are those events counted once each.
    const last = new Map([...events, ...corrected].map((view) => [view.eventId, view]));
    expect(aggregateMismatches(expectedAggregates(last.values()), await aggregatesIn(t.db))).toEqual([]);
    const [[moved]] = (await t.db.pool.query("SELECT COUNT(*) AS n FROM agg_pageviews_hourly WHERE url_path = '/corrected'")) as unknown as [
      [{ n: number }],
    ];
    expect(Number(moved.n)).toBeGreaterThan(0);
  });

  it('marks hopping windows final once the watermark passes their end plus the lateness; a late row still counts', async () => {
    const [marks] = await t.db.pool.query('SELECT partition_id, watermark_ms FROM kelt_watermarks WHERE aggregate_table = ?', ['agg_views_hopping']);
    expect((marks as unknown[]).length).toBe(t.pipeline.partitions);
    const watermark = Math.min(...(marks as Array<{ watermark_ms: number | string }>).map((mark) => Number(mark.watermark_ms)));
    const rows = await hoppingTable();
    const finalUpTo = watermark - HOUR - 10 * MINUTE;
    for (const row of rows) expect(Boolean(row.final), `window ${new Date(Number(row.start)).toISOString()}`).toBe(Number(row.start) <= finalUpTo);
    expect(rows.filter((row) => row.final).length).toBeGreaterThan(10);
    expect(rows.some((row) => !row.final)).toBe(true);

    const metricsOf = async () => {
      const port = await processes[2]!.httpPort();
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(/kelt_late_rows_total\{[^}]*aggregate="agg_views_hopping"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const lateBefore = await metricsOf();
    const at = base + 5 * MINUTE;
    const covering = async () =>
      new Map(
        (await hoppingTable())
          .filter((row) => Number(row.start) <= at && at < Number(row.start) + HOUR && row.url_host === 'blog.example.com')
          .map((row) => [Number(row.start), row]),
      );
    const before = await covering();
    // An event in the first hour (blog.example.com): every window covering it is final.
    await produce([event(9_001, at)]);
    await caughtUp();
    await expectViews();
    const after = await covering();
    expect(after.size).toBe(4);
    for (const [start, row] of after) {
      expect(row.final).toBeTruthy();
      expect(Number(row.late_rows) - Number(before.get(start)?.late_rows ?? 0)).toBe(1);
    }
    expect((await metricsOf()) - lateBefore).toBe(4);
  });
});
