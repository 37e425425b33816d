import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { avroType } from '../../src/avro/logical-types.ts';
import { generatedEvents } from '../../src/produce/event-source.ts';
import { postUntilAccepted, type CollectorClientTally } from '../support/collector-client.ts';
import { stack } from '../support/fault-run.ts';
import { countRows, createTestPipeline, readTopic, waitFor, type TestPipeline } from '../support/pipeline.ts';
import { freePort } from '../support/stack.ts';
import { StageProcess, startTestStage, stopStageProcesses } from '../support/stage-process.ts';

const EVENTS = 4_000;
const type = avroType(
  JSON.parse(readFileSync(fileURLToPath(new URL('../../schemas/pageview.avsc', import.meta.url)), 'utf8')) as Parameters<typeof avroType>[0],
);
const logDir = fileURLToPath(new URL('../../test-results/stage-logs/', import.meta.url));

/**
 * The collector's promise under faults: an event answered accepted is in
 * Kafka, so it is staged exactly once, whatever happens to the collector or
 * the broker afterwards; an event not accepted is sent again by its client,
 * and the copies that did reach Kafka are absorbed by the event id.
 */
describe('fault: the collector under load', () => {
  const processes: StageProcess[] = [];
  let t: TestPipeline | undefined;

  afterEach(async () => {
    await stack('start', 'broker-1');
    await stopStageProcesses(processes);
    await t?.cleanup();
    t = undefined;
  });

  async function testPipeline(): Promise<{ t: TestPipeline; events: Array<Record<string, unknown>> }> {
    t = await createTestPipeline({ consumer: { sessionTimeoutMs: 10_000 } });
    const events: Array<Record<string, unknown>> = [];
    for await (const event of generatedEvents(t.pipeline.source.generatorPath!, EVENTS)) events.push(event);
    return { t, events };
  }

  async function startStages(t: TestPipeline): Promise<void> {
    for (const stage of ['extract', 'load'] as const) {
      const member = startTestStage(stage, t.specPath, t.endpoints, `${t.pipeline.name}-${stage}`);
      processes.push(member);
      await member.joined();
    }
  }

  function startCollector(t: TestPipeline, port: number, name: string): StageProcess {
    const collector = new StageProcess('collect', t.specPath, t.endpoints, {
      logFile: `${logDir}${t.pipeline.name}-${name}.log`,
      env: { KELT_HTTP_PORT: String(port) },
      args: ['--ack-timeout', '3'],
    });
    processes.push(collector);
    return collector;
  }

  /** Every accepted event staged, and every event posted staged once (the table's key is the event id). */
  async function expectStagedOnce(t: TestPipeline, tally: CollectorClientTally, events: Array<Record<string, unknown>>): Promise<void> {
    expect(tally.accepted.size).toBe(events.length);
    const staged = async () => {
      const [rows] = await t.db.pool.query('SELECT event_id FROM stg_pageviews');
      return new Set((rows as Array<{ event_id: string }>).map((row) => row.event_id));
    };
    const deadline = Date.now() + 120_000;
    while ((await countRows(t.db, 'stg_pageviews')) < events.length && Date.now() < deadline) await sleep(250);
    const stagedIds = await staged();
    const missing = [...tally.accepted].filter((id) => !stagedIds.has(id));
    if (missing.length > 0) {
      // Where the missing events stopped: never in the raw topic (lost by the collector) or in it (a stage behind).
      const rawIds = new Set(
        (await readTopic(t.connections.kafka, t.pipeline.topics.raw)).map((record) =>
          String((type.fromBuffer(record.value!.subarray(5)) as { eventId: string }).eventId),
        ),
      );
      expect({ missing: missing.length, missingFromRaw: missing.filter((id) => !rawIds.has(id)).length }).toEqual({ missing: 0, missingFromRaw: 0 });
    }
    expect(stagedIds.size).toBe(events.length);
    expect(await readTopic(t.connections.kafka, t.pipeline.topics.dlq)).toHaveLength(0);
  }

  // The stages start once Kafka is back: what is proven here is the
  // collector's answer to Kafka's absence (the stages' own recovery from a
  // broker outage is the broker fault tests').
  it('answers 503 while Kafka is stopped, is not ready, and accepts again once it is back', async () => {
    const { t, events } = await testPipeline();
    const port = await freePort();
    const collector = startCollector(t, port, 'collect');
    await collector.httpPort();
    const url = `http://127.0.0.1:${port}`;
    const load = postUntilAccepted(events, (event) => String(event.eventId), { url: `${url}/events`, concurrency: 4, batchSize: 25, pauseMs: 200 });
    await sleep(2_000);
    await stack('stop', 'broker-1');
    await waitFor('the collector not ready', async () => (await fetch(`${url}/readyz`)).status === 503, 30_000);
    await sleep(8_000);
    await stack('start', 'broker-1');
    await waitFor('the collector ready again', async () => (await fetch(`${url}/readyz`)).status === 200, 60_000);
    const tally = await load;
    expect(tally.statuses.get(503)).toBeGreaterThan(0);
    await startStages(t);
    await expectStagedOnce(t, tally, events);
  });

  it('loses no accepted event when the collector is killed (SIGKILL) mid-load and started again', async () => {
    const { t, events } = await testPipeline();
    await startStages(t);
    const port = await freePort();
    await startCollector(t, port, 'collect-1').httpPort();
    const url = `http://127.0.0.1:${port}`;
    const tally: CollectorClientTally = { statuses: new Map(), accepted: new Set() };
    const load = postUntilAccepted(
      events,
      (event) => String(event.eventId),
      { url: `${url}/events`, concurrency: 4, batchSize: 25, pauseMs: 200 },
      tally,
    );
    await sleep(3_000);
    const killed = processes.at(-1)!;
    expect(await killed.signal('SIGKILL')).toMatchObject({ signal: 'SIGKILL' });
    const acceptedBeforeTheKill = tally.accepted.size;
    await startCollector(t, port, 'collect-2').httpPort();
    await load;
    expect(tally.statuses.get(0)).toBeGreaterThan(0);
    expect(acceptedBeforeTheKill).toBeGreaterThan(0);
    expect(acceptedBeforeTheKill).toBeLessThan(events.length);
    await expectStagedOnce(t, tally, events);
    const raw = await readTopic(t.connections.kafka, t.pipeline.topics.raw);
    expect(new Set(raw.map((record) => record.value!.subarray(5).toString('latin1'))).size).toBe(events.length);
  });
});
