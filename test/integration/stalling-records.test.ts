import { writeFileSync } from 'node:fs';
import { tempFile } from '../support/temp-file.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { produceEvents } from '../../src/produce/produce.ts';
import { setMessageLimits } from '../support/kafka.ts';
import { countRows, createTestPipeline, readTopic, waitFor, type TestPipeline } from '../support/pipeline.ts';
import { startTestStage, stopStageProcesses, type StageProcess } from '../support/stage-process.ts';

/**
 * Records that once stalled a partition forever (retried as if transient)
 * are dead-lettered, each once, and the records around them go through.
 */
const kinds = ['ok', 'bigint', 'cycle', 'object', 'rejects'] as const;
const PER_KIND = 40;

/** An async transform that writes what MySQL cannot hold for some records. */
const transformSource = `
export default async function transform(record) {
  const kind = record.eventId.split('-')[2];
  const row = { event_id: record.eventId, user_id: record.userId, payload: { url: record.url } };
  if (kind === 'bigint') row.payload = { count: 2n ** 64n };
  if (kind === 'cycle') { const o = {}; o.self = o; row.payload = o; }
  if (kind === 'object') row.user_id = { nested: true };
  if (kind === 'rejects') throw new Error('this record cannot be transformed');
  await new Promise((resolve) => setImmediate(resolve));
  return { fct_test: row };
}
`;

function event(n: number, kind: string, overrides: Record<string, unknown> = {}) {
  return {
    eventId: `ev-${n}-${kind}`,
    userId: `u${n % 7}`,
    url: `https://shop.example/p/${n}`,
    referrer: null,
    userAgent: 'Mozilla/5.0',
    ip: '192.0.2.1',
    ts: 1_767_225_600_000 + n,
    ...overrides,
  };
}

/** Produces the events to the pipeline's raw topic, 50 per request. */
async function produceInFifties(t: TestPipeline, events: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  await produceEvents(
    t.pipeline,
    (async function* () {
      yield* events;
    })(),
    t.connections,
    { batchSize: 50 },
  );
}

const testTable = { name: 'fct_test', primaryKey: ['event_id'], columns: { event_id: 'string', user_id: 'string', payload: 'json' } };

describe('records that used to stall a partition', () => {
  let t: TestPipeline | undefined;
  /** Stage processes a test started: stopped after it whatever happened, never left running on a deleted pipeline. */
  const processes: StageProcess[] = [];
  afterEach(async () => {
    await stopStageProcesses(processes);
    await t?.cleanup();
    t = undefined;
  });

  it('dead-letters a cycle in a json column, an object in a scalar column and a rejected promise, once each, and writes the rest (a BigInt in json exactly)', async () => {
    t = await createTestPipeline({ transform: { module: tempFile('transform.mjs', transformSource), tables: [testTable] } as never });
    await Promise.all([t.start('extract'), t.start('load'), t.start('transform')]);
    const events = Array.from({ length: PER_KIND * kinds.length }, (_, n) => event(n, kinds[n % kinds.length]!));
    await produceInFifties(t, events);
    const expectedDead = events.length - 2 * PER_KIND;
    await waitFor('every record modeled or dead-lettered', async () => (await countRows(t!.db, 'fct_test')) >= 2 * PER_KIND);
    await waitFor('the dead letters', async () => (await readTopic(t!.connections.kafka, t!.pipeline.topics.dlq)).length >= expectedDead);
    const letters = await readTopic(t.connections.kafka, t.pipeline.topics.dlq);
    const reasons = letters.map((letter) => `${letter.headers?.['kelt.stage']}/${letter.headers?.['kelt.reason']}`);
    expect(reasons.filter((r) => r === 'transform/transform_error')).toHaveLength(expectedDead);
    expect(letters).toHaveLength(expectedDead);
    expect(await countRows(t.db, 'stg_pageviews')).toBe(events.length);
    expect(await countRows(t.db, 'fct_test')).toBe(2 * PER_KIND);
    const [payloads] = await t.db.pool.query("SELECT DISTINCT CAST(payload AS CHAR) AS payload FROM fct_test WHERE event_id LIKE '%-bigint'");
    expect(payloads).toEqual([{ payload: '{"count":18446744073709551616}' }]);
  });

  it('ends a transform stage whose module fails to load, with a sentence and nothing dead-lettered, and a fixed module picks the records up', async () => {
    const broken = tempFile('transform.mjs', 'throw new Error("TRANSFORM_SECRET is not set");\nexport default () => ({});\n');
    t = await createTestPipeline({ transform: { module: broken, tables: [testTable] } as never });
    await Promise.all([t.start('extract'), t.start('load')]);
    const events = Array.from({ length: PER_KIND }, (_, n) => event(n, 'ok'));
    await produceInFifties(t, events);
    await waitFor('every record staged', async () => (await countRows(t!.db, 'stg_pageviews')) >= PER_KIND);

    const failing = startTestStage('transform', t.specPath, t.endpoints, `${t.pipeline.name}-transform-broken`);
    processes.push(failing);
    const exit = await failing.exit();
    expect(exit.code).toBe(2);
    expect(failing.logTail()).toContain('failed to load: TRANSFORM_SECRET is not set');
    expect(await countRows(t.db, 'fct_test')).toBe(0);
    expect(await readTopic(t.connections.kafka, t.pipeline.topics.dlq)).toHaveLength(0);

    writeFileSync(broken, transformSource);
    await t.start('transform');
    await waitFor('every record modeled', async () => (await countRows(t!.db, 'fct_test')) >= PER_KIND);
    expect(await countRows(t.db, 'fct_test')).toBe(PER_KIND);
    expect(await readTopic(t.connections.kafka, t.pipeline.topics.dlq)).toHaveLength(0);
  });

  it('dead-letters a record over the next topic’s max.message.bytes in extract or in load instead of retrying it forever, and sends the letter without a value the DLQ cannot hold', async () => {
    t = await createTestPipeline();
    await setMessageLimits(t.connections.kafka, {
      [t.pipeline.topics.extracted]: 200_000,
      [t.pipeline.topics.loaded]: 120_000,
      [t.pipeline.topics.dlq]: 100_000,
    });
    await Promise.all([t.start('extract'), t.start('load'), t.start('transform')]);
    // 300 kB passes no topic; 150 kB passes the extracted topic but not the loaded one.
    const sizes = new Map([
      [50, 300_000],
      [70, 150_000],
    ]);
    const events = Array.from({ length: 102 }, (_, n) =>
      sizes.has(n) ? event(n, 'huge', { userAgent: 'x'.repeat(sizes.get(n)!) }) : event(n, 'ok'),
    );
    await produceInFifties(t, events);
    await waitFor('the good records modeled', async () => (await countRows(t!.db, 'fct_pageviews')) >= 100);
    await waitFor('two dead letters', async () => (await readTopic(t!.connections.kafka, t!.pipeline.topics.dlq)).length >= 2);
    const letters = await readTopic(t.connections.kafka, t.pipeline.topics.dlq);
    expect(letters.map((letter) => `${letter.headers?.['kelt.stage']}/${letter.headers?.['kelt.reason']}`).sort()).toEqual([
      'extract/record_too_large',
      'load/record_too_large',
    ]);
    for (const letter of letters) {
      expect(letter.value).toBeNull();
      expect(letter.headers?.['kelt.value.omitted']?.toString()).toMatch(/^\d+ bytes/);
    }
    expect(await countRows(t.db, 'stg_pageviews')).toBe(100);
    expect(await countRows(t.db, 'fct_pageviews')).toBe(100);
  });

  it('dead-letters a record whose transform loops, never settles or allocates without end, within its limits, and the stage goes on and drains', async () => {
    const unbounded = `
export default async function transform(record) {
  const kind = record.eventId.split('-')[2];
  if (kind === 'loops') for (;;);
  if (kind === 'hangs') await new Promise(() => undefined);
  if (kind === 'hoards') { const hoard = []; for (;;) hoard.push(new Array(1_000_000).fill(1.5)); }
  return { fct_test: { event_id: record.eventId, user_id: record.userId, payload: null } };
}
`;
    t = await createTestPipeline({
      transform: { module: tempFile('transform.mjs', unbounded), tables: [testTable], timeoutMs: 5_000 } as never,
      pool: { threads: 2, memoryMb: 128 },
    });
    await Promise.all([t.start('extract'), t.start('load')]);
    const transform = startTestStage('transform', t.specPath, t.endpoints, `${t.pipeline.name}-transform-bounded`);
    processes.push(transform);
    await transform.joined();
    const hostile = ['loops', 'hangs', 'hoards'];
    const events = Array.from({ length: 3 * PER_KIND }, (_, n) => event(n, n % PER_KIND === 7 ? hostile[Math.floor(n / PER_KIND)]! : 'ok'));
    await produceInFifties(t, events);
    await waitFor('every good record modeled', async () => (await countRows(t!.db, 'fct_test')) >= events.length - hostile.length);
    await waitFor('the dead letters', async () => (await readTopic(t!.connections.kafka, t!.pipeline.topics.dlq)).length >= hostile.length);
    const letters = await readTopic(t.connections.kafka, t.pipeline.topics.dlq);
    expect(letters.map((letter) => String(letter.headers?.['kelt.reason'])).sort()).toEqual([
      'transform_out_of_memory',
      'transform_timeout',
      'transform_timeout',
    ]);
    expect(await countRows(t.db, 'fct_test')).toBe(events.length - hostile.length);
    expect(transform.running).toBe(true);
    expect(await transform.stopWithin(25_000)).toBe('drained');
    expect((await transform.exit()).code).toBe(0);
  });

  it('holds the records when most would be dead-lettered (a broken deploy of the transform), and a fixed transform takes them up', async () => {
    const module = tempFile('transform.mjs', "export default () => { throw new Error('TRANSFORM_TABLE is not set'); };\n");
    t = await createTestPipeline({
      transform: { module, tables: [testTable] } as never,
      deadLetters: { breakerMinRecords: 100 } as never,
    });
    await Promise.all([t.start('extract'), t.start('load')]);
    const broken = await t.start('transform');
    const events = Array.from({ length: 8 * PER_KIND }, (_, n) => event(n, 'ok'));
    await produceInFifties(t, events);
    await waitFor('the breaker to hold the records', async () =>
      broken.runner.faults.reasons.some((reason) => reason.includes('would be dead-lettered')),
    );
    expect(broken.runner.faults.ready).toBe(false);
    const heldBack = (await readTopic(t.connections.kafka, t.pipeline.topics.dlq)).length;
    expect(heldBack).toBeLessThan(events.length / 2);
    expect(await countRows(t.db, 'fct_test')).toBe(0);

    await broken.stop();
    writeFileSync(module, transformSource);
    await t.start('transform');
    await waitFor('the waiting records modeled', async () => (await countRows(t!.db, 'fct_test')) >= events.length - heldBack);
    expect(await countRows(t.db, 'fct_test')).toBe(events.length - heldBack);
    expect(await readTopic(t.connections.kafka, t.pipeline.topics.dlq)).toHaveLength(heldBack);
  });

  it('dead-letters the records whose sum would pass DOUBLE’s range, in the batch or with the sum already stored, and counts the rest exactly', async () => {
    const summing = `
export default function transform(record) {
  const huge = record.userId === 'huge';
  return { fct_amounts: { event_id: record.eventId, user_id: record.userId, amount: huge ? 1.5e308 : 2.5 } };
}
`;
    t = await createTestPipeline({
      transform: {
        module: tempFile('transform.mjs', summing),
        tables: [{ name: 'fct_amounts', primaryKey: ['event_id'], columns: { event_id: 'string', user_id: 'string', amount: 'double' } }],
        aggregates: [{ name: 'agg_amounts', from: 'fct_amounts', groupBy: ['user_id'], measures: { total: 'sum(amount)', records: 'count' } }],
      } as never,
    });
    await Promise.all([t.start('extract'), t.start('load'), t.start('transform')]);
    const HUGE = 3;
    const events = Array.from({ length: 5 * PER_KIND }, (_, n) => event(n, 'ok', n % 50 === 9 && n < 50 * HUGE ? { userId: 'huge' } : {}));
    await produceInFifties(t, events);
    await waitFor('every record modeled or dead-lettered', async () => (await countRows(t!.db, 'fct_amounts')) >= events.length - (HUGE - 1));
    await waitFor('the dead letters', async () => (await readTopic(t!.connections.kafka, t!.pipeline.topics.dlq)).length >= HUGE - 1);
    const letters = await readTopic(t.connections.kafka, t.pipeline.topics.dlq);
    expect(letters.map((letter) => `${letter.headers?.['kelt.stage']}/${letter.headers?.['kelt.reason']}`)).toEqual(
      Array(HUGE - 1).fill('transform/row_rejected'),
    );
    expect(String(letters[0]!.headers?.['kelt.error'])).toMatch(/out of range|past the range of a DOUBLE/i);
    expect(await countRows(t.db, 'fct_amounts')).toBe(events.length - (HUGE - 1));
    const [sums] = await t.db.pool.query('SELECT user_id, total, records FROM agg_amounts ORDER BY user_id');
    const perUser = new Map<string, number>();
    for (const e of events) if (e.userId !== 'huge') perUser.set(e.userId, (perUser.get(e.userId) ?? 0) + 1);
    expect(sums).toEqual(
      [
        ...[...perUser].sort(([a], [b]) => a.localeCompare(b)).map(([user_id, n]) => ({ user_id, total: 2.5 * n, records: n })),
        { user_id: 'huge', total: 1.5e308, records: 1 },
      ].sort((a, b) => (a.user_id < b.user_id ? -1 : 1)),
    );
  });

  it('drains on SIGTERM while a record’s transform never settles, within the grace period, and the next member finishes the rest once', async () => {
    const hanging = `
export default async function transform(record) {
  if (record.eventId.endsWith('-hangs')) await new Promise(() => undefined);
  return { fct_test: { event_id: record.eventId, user_id: record.userId, payload: null } };
}
`;
    t = await createTestPipeline({
      transform: { module: tempFile('transform.mjs', hanging), tables: [testTable], timeoutMs: 5_000 } as never,
      pool: { threads: 2 },
    });
    await Promise.all([t.start('extract'), t.start('load')]);
    const first = startTestStage('transform', t.specPath, t.endpoints, `${t.pipeline.name}-transform-first`);
    processes.push(first);
    await first.joined();
    const events = Array.from({ length: 3 * PER_KIND }, (_, n) => event(n, n === PER_KIND ? 'hangs' : 'ok'));
    await produceInFifties(t, events);
    // SIGTERM while the record hangs in a worker: the drain waits for its time limit (5 s), not for ever.
    await waitFor('the hanging record staged', async () => (await countRows(t!.db, 'stg_pageviews')) >= events.length);
    expect(await first.stopWithin(25_000)).toBe('drained');
    expect((await first.exit()).code).toBe(0);

    const second = startTestStage('transform', t.specPath, t.endpoints, `${t.pipeline.name}-transform-second`);
    processes.push(second);
    await waitFor('every other record modeled', async () => (await countRows(t!.db, 'fct_test')) >= events.length - 1);
    await waitFor('the hanging record dead-lettered', async () => (await readTopic(t!.connections.kafka, t!.pipeline.topics.dlq)).length >= 1);
    const letters = await readTopic(t.connections.kafka, t.pipeline.topics.dlq);
    expect(letters.map((letter) => String(letter.headers?.['kelt.reason']))).toEqual(['transform_timeout']);
    expect(await countRows(t.db, 'fct_test')).toBe(events.length - 1);
  });
});
