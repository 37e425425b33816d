import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/kafka/partitioner.ts';
import { generatedEvents } from '../../src/produce/event-source.ts';
import { postUntilAccepted } from '../support/collector-client.ts';
import { countRows, createTestPipeline, readTopic, waitFor, type TestPipeline } from '../support/pipeline.ts';
import { StageProcess, stopStageProcesses } from '../support/stage-process.ts';

const logDir = fileURLToPath(new URL('../../test-results/stage-logs/', import.meta.url));
const TOKEN = 'collector-test-token';
const EVENTS = 600;

/**
 * `kelt collect` as its own process in front of extract and load on the
 * real stack: what it accepts is staged once with the values posted, what it
 * refuses is answered with the field at fault and never reaches Kafka.
 */
describe('kelt collect on the real stack', () => {
  let t: TestPipeline;
  let collector: StageProcess;
  let url: string;
  const processes: StageProcess[] = [];

  beforeAll(async () => {
    t = await createTestPipeline();
    // The collector never opens MySQL: it runs without KELT_MYSQL_URL.
    const { mysqlUrl: _unused, ...withoutMysql } = t.endpoints;
    collector = new StageProcess('collect', t.specPath, withoutMysql, {
      logFile: `${logDir}${t.pipeline.name}-collect.log`,
      env: { KELT_COLLECT_TOKENS: `other-token-1,${TOKEN}` },
      args: ['--max-body-bytes', '65536', '--cors-origin', 'https://shop.example'],
    });
    processes.push(collector);
    url = `http://127.0.0.1:${await collector.httpPort()}`;
    await t.start('extract');
    await t.start('load');
  });

  afterAll(async () => {
    await stopStageProcesses(processes);
    await t?.cleanup();
  });

  it('stages every accepted event once, refuses the rest naming the field, and sends nothing it refused', async () => {
    const events: Array<Record<string, unknown>> = [];
    for await (const event of generatedEvents(t.pipeline.source.generatorPath!, EVENTS)) events.push(event);
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${url}/events`, { method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, ...headers } });

    const tally = await postUntilAccepted(events.slice(0, 500), (event) => String(event.eventId), {
      url: `${url}/events`,
      token: TOKEN,
      concurrency: 4,
      batchSize: 50,
    });
    const ndjson = await post(
      `${events
        .slice(500)
        .map((event) => JSON.stringify(event))
        .join('\n')}\n`,
      { 'content-type': 'application/x-ndjson' },
    );
    expect([ndjson.status, await ndjson.json()]).toEqual([200, { accepted: 100, refused: [] }]);
    expect(Object.fromEntries(tally.statuses)).toEqual({ 200: 10 });

    const misspelt = { ...events[0]!, eventId: 'refused-1', user_id: 'u' };
    const badTime = { ...events[1]!, eventId: 'refused-2', ts: 'yesterday' };
    const refused = await post(JSON.stringify([misspelt, badTime]));
    expect(refused.status).toBe(422);
    expect(await refused.json()).toEqual({
      accepted: 0,
      refused: [
        { index: 0, field: 'user_id', error: expect.stringContaining('user_id is not a field') },
        { index: 1, field: 'ts', error: expect.stringContaining('"yesterday" is not a timestamp') },
      ],
    });
    // Text that would land changed (a lone surrogate, bytes that are not UTF-8) is refused, never stored as U+FFFD.
    const loneSurrogate = await post(JSON.stringify({ ...events[4]!, eventId: 'refused-3' }).replace('"url":"', '"url":"ab\\ud800cd'));
    expect(loneSurrogate.status).toBe(422);
    expect(await loneSurrogate.json()).toMatchObject({ accepted: 0, refused: [{ index: 0, field: 'url' }] });
    const [before, after] = JSON.stringify({ ...events[5]!, eventId: 'refused-4', url: 'URL' }).split('URL');
    const notUtf8 = Buffer.concat([Buffer.from(before!), Buffer.from([0x61, 0xff, 0xc3, 0x28]), Buffer.from(after!)]);
    const notUtf8Answer = await fetch(`${url}/events`, { method: 'POST', body: notUtf8, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(notUtf8Answer.status).toBe(400);
    const oversize = await post(JSON.stringify(Array.from({ length: 300 }, () => events[2])));
    expect(oversize.status).toBe(413);
    expect((await post(JSON.stringify(events[3]), { authorization: 'Bearer not-a-token' })).status).toBe(401);
    expect((await fetch(`${url}/events`, { method: 'POST', body: JSON.stringify(events[3]) })).status).toBe(401);
    const preflight = await fetch(`${url}/events`, { method: 'OPTIONS', headers: { origin: 'https://shop.example' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example');

    await waitFor(`${EVENTS} staged rows`, async () => (await countRows(t.db, 'stg_pageviews')) >= EVENTS, 120_000);
    expect(await countRows(t.db, 'stg_pageviews')).toBe(EVENTS);
    const [rows] = await t.db.pool.query('SELECT event_id, user_id, url, referrer, ts FROM stg_pageviews WHERE event_id = ?', [events[7]!.eventId]);
    const posted = events[7]!;
    expect(rows).toEqual([
      { event_id: posted.eventId, user_id: posted.userId, url: posted.url, referrer: posted.referrer, ts: new Date(posted.ts as number | string) },
    ]);

    const raw = await readTopic(t.connections.kafka, t.pipeline.topics.raw);
    expect(raw).toHaveLength(EVENTS);
    for (const record of raw) expect(record.partition).toBe(partitionForKey(record.key!, t.pipeline.partitions));
    expect(await readTopic(t.connections.kafka, t.pipeline.topics.dlq)).toHaveLength(0);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^kelt_collect_events_accepted_total\{[^}]*\} 600$/m);
    expect(metrics).toMatch(/^kelt_collect_events_refused_total\{reason="schema_violation"[^}]*\} 3$/m);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(await collector.signal('SIGTERM')).toMatchObject({ code: 0 });
  });
});
