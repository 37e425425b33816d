import type avro from 'avsc';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { avroType } from '../../../src/avro/logical-types.ts';
import { CollectorMetrics } from '../../../src/collect/collector-metrics.ts';
import { EventIntake } from '../../../src/collect/event-intake.ts';
import { eventsRoute, type EventsRouteOptions } from '../../../src/collect/events-route.ts';
import { CollectorBusyError, CollectorUnavailableError } from '../../../src/collect/produce-batcher.ts';
import { StageServer } from '../../../src/http/stage-server.ts';
import type { OutgoingRecord } from '../../../src/kafka/records.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { unframe } from '../../../src/registry/wire-format.ts';

const type = avroType({
  type: 'record',
  name: 'Click',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
}) as avro.types.RecordType;
const event = (id: string) => ({ id, at: '2026-12-02T10:00:00Z' });

const servers: StageServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** The route on a real HTTP port, its intake handing records to `submit`. */
async function collector(submit: (records: readonly OutgoingRecord[]) => Promise<void>, overrides: Partial<EventsRouteOptions> = {}) {
  const metrics = new CollectorMetrics('clicks', () => 0);
  const intake = new EventIntake({ type, keyField: 'id', encoding: { format: 'avro', schemaId: 7 }, maxRecordBytes: 200, batcher: { submit } });
  const server = new StageServer(
    {
      registry: new Registry(),
      live: () => ({ alive: true }),
      readiness: () => ({ ready: true, reasons: [] }),
      routes: {
        '/events': eventsRoute({
          intake,
          metrics,
          logger: createLogger('silent'),
          maxBodyBytes: 1_000,
          maxEvents: 5,
          maxBufferedBytes: 10_000,
          tokens: [],
          corsOrigins: [],
          retryAfterSeconds: () => 3,
          stopping: () => false,
          ...overrides,
        }),
      },
    },
    createLogger('silent'),
  );
  servers.push(server);
  const port = await server.listen('127.0.0.1', 0);
  const post = (body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${port}/events`, { method: 'POST', body, headers, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) });
  return { post, metrics, port };
}

describe('POST /events', () => {
  it('sends the valid events keyed and framed, and lists the refused ones by index and field', async () => {
    const sent: OutgoingRecord[] = [];
    const { post, metrics } = await collector(async (records) => void sent.push(...records));
    const response = await post(JSON.stringify([event('a'), { id: 'b', at: 'soon' }, event('c'), { id: 'd', at: 0, extra: 1 }]));
    expect(response.status).toBe(207);
    expect(await response.json()).toEqual({
      accepted: 2,
      refused: [
        { index: 1, field: 'at', error: expect.stringMatching(/^at: "soon" is not a timestamp/) },
        { index: 3, field: 'extra', error: 'extra is not a field of Click' },
      ],
    });
    expect(sent.map((record) => record.key)).toEqual(['a', 'c']);
    expect(type.fromBuffer(unframe(sent[0]!.value as Buffer).payload)).toEqual({ id: 'a', at: Date.parse('2026-12-02T10:00:00Z') });
    expect((await metrics.accepted.get()).values[0]!.value).toBe(2);
  });

  it('answers 200 when all are accepted, 422 when none is, 400 for a body that is not JSON', async () => {
    const { post } = await collector(async () => undefined);
    expect((await post(JSON.stringify(event('a')))).status).toBe(200);
    expect((await post(JSON.stringify({ id: 'a' }))).status).toBe(422);
    const unreadable = await post('{"id":');
    expect(unreadable.status).toBe(400);
    expect(await unreadable.json()).toMatchObject({ accepted: 0, error: expect.stringMatching(/not JSON/) });
  });

  it('refuses an event over the topic’s record size by itself', async () => {
    const sent: OutgoingRecord[] = [];
    const { post } = await collector(async (records) => void sent.push(...records));
    const response = await post(JSON.stringify([event('a'), event('x'.repeat(300))]));
    expect(response.status).toBe(207);
    expect(await response.json()).toMatchObject({ accepted: 1, refused: [{ index: 1, field: '(event)' }] });
    expect(sent).toHaveLength(1);
  });

  it('answers 413 for a body over the limit, with or without a length, and for too many events', async () => {
    const submitted: number[] = [];
    const { post } = await collector(async (records) => void submitted.push(records.length));
    expect((await post(JSON.stringify(Array.from({ length: 40 }, (_, i) => event(`event-${i}`))))).status).toBe(413);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode(`${JSON.stringify(event(`e${i}`))}\n`));
        controller.close();
      },
    });
    expect((await post(chunked)).status).toBe(413);
    expect((await post(JSON.stringify(Array.from({ length: 6 }, (_, i) => event(`${i}`))))).status).toBe(413);
    expect(submitted).toEqual([]);
  });

  it('answers 429 when busy and 503 when Kafka did not take them, with Retry-After and nothing accepted', async () => {
    let fail: Error = new CollectorBusyError('full');
    const { post } = await collector(() => Promise.reject(fail));
    const busy = await post(JSON.stringify(event('a')));
    expect([busy.status, busy.headers.get('retry-after')]).toEqual([429, '3']);
    expect(await busy.json()).toEqual({ accepted: 0, error: 'full' });
    fail = new CollectorUnavailableError('Kafka did not take the events: KafkaJSNumberOfRetriesExceeded broker-3.internal:9092');
    const unavailable = await post(JSON.stringify(event('a')));
    expect([unavailable.status, unavailable.headers.get('retry-after')]).toEqual([503, '3']);
    // The client is told what to do; Kafka's internals stay in the log.
    expect(JSON.stringify(await unavailable.json())).not.toMatch(/broker|KafkaJS/);
  });

  it('requires one of the bearer tokens when tokens are set', async () => {
    const { post } = await collector(async () => undefined, { tokens: ['first-token', 'second-token'] });
    expect((await post(JSON.stringify(event('a')))).status).toBe(401);
    expect((await post(JSON.stringify(event('a')), { authorization: 'Bearer wrong-token' })).status).toBe(401);
    expect((await post(JSON.stringify(event('a')), { authorization: 'Bearer second-token' })).status).toBe(200);
  });

  it('answers CORS preflights for the allowed origins only', async () => {
    const { port } = await collector(async () => undefined, { corsOrigins: ['https://shop.example'] });
    const preflight = (origin: string) => fetch(`http://127.0.0.1:${port}/events`, { method: 'OPTIONS', headers: { origin } });
    const allowed = await preflight('https://shop.example');
    expect([allowed.status, allowed.headers.get('access-control-allow-origin')]).toEqual([204, 'https://shop.example']);
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers 503 once stopping, and 415 for a compressed body', async () => {
    const { post } = await collector(async () => undefined, { stopping: () => true });
    expect((await post(JSON.stringify(event('a')))).status).toBe(503);
    const { post: postOpen } = await collector(async () => undefined);
    expect((await postOpen('x', { 'content-encoding': 'gzip' })).status).toBe(415);
  });

  it('refuses text it would change: a body that is not UTF-8 (400), an unpaired surrogate (422, by field)', async () => {
    const sent: OutgoingRecord[] = [];
    const { post, port } = await collector(async (records) => void sent.push(...records));
    const bytes = Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","at":"2026-12-02T10:00:00Z"}')]);
    const notUtf8 = await fetch(`http://127.0.0.1:${port}/events`, { method: 'POST', body: bytes });
    expect(notUtf8.status).toBe(400);
    expect(((await notUtf8.json()) as { error: string }).error).toMatch(/not UTF-8/);
    const surrogate = await post('{"id":"ab\\ud800cd","at":"2026-12-02T10:00:00Z"}');
    expect(surrogate.status).toBe(422);
    expect(((await surrogate.json()) as { refused: Array<{ field: string }> }).refused[0]!.field).toBe('id');
    expect(sent).toHaveLength(0);
  });

  it("shuts its door on clients' mistakes without a 500: own fields only, deep nesting, aborted bodies, too many bytes held at once", async () => {
    const sent: OutgoingRecord[] = [];
    const { post, port, metrics } = await collector(async (records) => void sent.push(...records), {
      maxBodyBytes: 100_000,
      maxBufferedBytes: 30_000,
    });
    for (const field of ['constructor', '__proto__', 'toString']) {
      const answer = await post(`{"id":"a","at":"2026-12-02T10:00:00Z","${field}":1}`);
      expect(answer.status).toBe(422);
      expect(((await answer.json()) as { refused: Array<{ field: string }> }).refused[0]!.field).toBe(field);
    }
    const deep = await post(`${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    expect(deep.status).toBe(400);
    // A client that sends half a body and goes away: the next request is served.
    const { connect } = await import('node:net');
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('POST /events HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{"id":');
        setTimeout(() => socket.destroy(), 50);
        socket.on('close', () => resolve());
      });
    });
    // Two bodies of 20 KB at once pass the 30 KB held across requests: one is told to come back.
    let finish = () => {};
    const slow = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode(`[${JSON.stringify(event('s'))}${' '.repeat(20_000)}`));
        await new Promise<void>((resolve) => (finish = resolve));
        controller.enqueue(new TextEncoder().encode(']'));
        controller.close();
      },
    });
    const first = post(slow);
    const held = async () => (await metrics.bodyBytes.get()).values[0]?.value ?? 0;
    while ((await held()) < 20_000) await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await post(`[${JSON.stringify(event('t'))}${' '.repeat(20_000)}]`);
    expect(second.status).toBe(429);
    finish();
    expect((await first).status).toBe(200);
    expect((await post(JSON.stringify(event('u')))).status).toBe(200);
    expect(sent.map((record) => String(record.key))).toEqual(['s', 'u']);
  });
});
