import { openClusterAdmin } from '../../src/kafka/cluster-admin.ts';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/kafka/partitioner.ts';
import { produceEvents } from '../../src/produce/produce.ts';
import transform from '../../schemas/pageviews.transform.ts';
import { stageLag } from '../../src/status/lag.ts';
import { countRows, createTestPipeline, readTopic, waitFor, type TestPipeline } from '../support/pipeline.ts';

/**
 * 10,000 pageviews through extract, load and transform on the real stack.
 * Every tenth event re-sends an earlier event id of the same user with new
 * content, right after it: the final rows must be the last events'.
 */
const EVENTS = 10_000;

type PageView = {
  eventId: string;
  userId: string;
  url: string;
  referrer: string | null;
  userAgent: string;
  ip: string;
  ts: number;
};

function events(): PageView[] {
  const out: PageView[] = [];
  for (let i = 0; out.length < EVENTS; i++) {
    const user = `user-${(i * 7919) % 613}`;
    const event: PageView = {
      eventId: `ev-${i}`,
      userId: user,
      url: `https://Shop.Example.com/p/${i % 97}?utm_source=s${i % 5}&utm_medium=m&b=2&a=1`,
      referrer: i % 4 === 0 ? null : `https://ref${i % 3}.example.org/x`,
      userAgent:
        i % 9 === 0
          ? 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
          : `Mozilla/5.0 (X11; Linux x86_64; rv:${100 + (i % 30)}.0) Gecko/20100101 Firefox/${100 + (i % 30)}.0`,
      ip: i % 10 === 0 ? `2001:db8::${(i % 65535).toString(16)}` : `203.0.113.${i % 256}`,
      ts: 1_767_225_600_000 + i * 37,
    };
    out.push(event);
    if (i % 10 === 9 && out.length < EVENTS) {
      out.push({ ...event, url: `${event.url}&version=2`, ts: event.ts + 1 });
    }
  }
  return out;
}

function checksum(rows: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(rows)).digest('hex');
}

describe('the pageviews pipeline end to end', () => {
  let t: TestPipeline;

  beforeAll(async () => {
    t = await createTestPipeline();
  });
  afterAll(async () => t?.cleanup());

  it('lands exactly the expected rows in the staging and model tables', async () => {
    const sent = events();
    const last = new Map<string, PageView>();
    for (const event of sent) last.set(event.eventId, event);
    const expected = [...last.values()].sort((a, b) => (a.eventId < b.eventId ? -1 : 1));

    await Promise.all([t.start('extract'), t.start('load'), t.start('transform')]);
    await produceEvents(
      t.pipeline,
      (async function* () {
        yield* sent;
      })(),
      t.connections,
    );

    await waitFor('every event in fct_pageviews', async () => (await countRows(t.db, 'fct_pageviews')) >= expected.length);
    // Re-sent ids do not add rows, so wait until every stage has consumed all of its input.
    const admin = await openClusterAdmin(t.connections.kafka);
    await waitFor('every stage caught up', async () => {
      for (const stage of ['extract', 'load', 'transform'] as const) {
        if ((await stageLag(admin, t.pipeline, stage)).lag > 0) return false;
      }
      return true;
    });
    await admin.close();
    // Exactly once between topics: each event once in extracted and once in loaded.
    for (const topic of [t.pipeline.topics.extracted, t.pipeline.topics.loaded]) {
      expect((await readTopic(t.connections.kafka, topic)).length, topic).toBe(sent.length);
    }

    const [staged] = await t.db.pool.query(
      'SELECT event_id, user_id, url, referrer, user_agent, ip, ts, kelt_source_topic, kelt_source_partition FROM stg_pageviews ORDER BY event_id',
    );
    const expectedStaged = expected.map((event) => ({
      event_id: event.eventId,
      user_id: event.userId,
      url: event.url,
      referrer: event.referrer,
      user_agent: event.userAgent,
      ip: event.ip,
      ts: new Date(event.ts),
      kelt_source_topic: t.pipeline.topics.raw,
      kelt_source_partition: partitionForKey(Buffer.from(event.userId), t.pipeline.partitions),
    }));
    expect((staged as unknown[]).length).toBe(expected.length);
    expect(checksum(staged as unknown[])).toBe(checksum(expectedStaged));

    const columns = Object.keys(t.pipeline.transform.tables[0]!.columns);
    const [modeled] = await t.db.pool.query(`SELECT ${columns.join(', ')} FROM fct_pageviews ORDER BY event_id`);
    const expectedModel = expected.map((event) => {
      const row = transform(event as unknown as Record<string, unknown>).fct_pageviews as Record<string, unknown>;
      return Object.fromEntries(
        columns.map((column) => {
          const value = row[column] ?? null;
          if (column === 'event_time') return [column, new Date(value as number)];
          if (typeof value === 'boolean') return [column, value ? 1 : 0];
          return [column, value];
        }),
      );
    });
    expect((modeled as unknown[]).length).toBe(expected.length);
    expect(checksum(modeled as unknown[])).toBe(checksum(expectedModel));

    // Re-sent ids: the final row is the last event's.
    const [updated] = await t.db.pool.query("SELECT COUNT(*) AS n FROM fct_pageviews WHERE url_normalized LIKE '%version=2%'");
    expect(Number((updated as Array<{ n: number }>)[0]!.n)).toBe(sent.length - expected.length);
  });
});
