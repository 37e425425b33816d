import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedEvents } from '../../src/produce/event-source.ts';
import { countRows, createTestPipeline, waitFor, type TestPipeline } from '../support/pipeline.ts';
import { StageProcess, stopStageProcesses } from '../support/stage-process.ts';

const logDir = fileURLToPath(new URL('../../test-results/stage-logs/', import.meta.url));
/** The chart's memory limit for the collector (helm/kelt/values.yaml, collector.resources.limits.memory). */
const CHART_LIMIT_BYTES = 512 * 1024 * 1024;
const SLOW_CLIENTS = 300;
const DRIP_BYTES = 8 * 1024;
const ATTACK_MS = 10_000;

/** The resident set of a process, from /proc (Linux). */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

/**
 * `kelt collect` under 300 clients that each announce a 1 MiB body and send
 * it 8 KiB at a time (what a slow or hostile client does to a server that
 * buffers bodies): the bytes it holds across requests are bounded, so its
 * memory stays under the chart's limit, and a client posting ordinary events
 * meanwhile keeps getting answers, every event it was told was accepted
 * staged once.
 */
describe('kelt collect under slow bodies', () => {
  let t: TestPipeline;
  let collector: StageProcess;
  let url: string;
  const processes: StageProcess[] = [];

  beforeAll(async () => {
    t = await createTestPipeline({ partitions: 2 });
    const { mysqlUrl: _unused, ...withoutMysql } = t.endpoints;
    collector = new StageProcess('collect', t.specPath, withoutMysql, {
      logFile: `${logDir}${t.pipeline.name}-collect-slow.log`,
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

  it('holds its memory under the chart limit and keeps answering other clients', async () => {
    const { port } = new URL(url);
    const sockets: Socket[] = [];
    const slowAnswers: string[] = [];
    for (let i = 0; i < SLOW_CLIENTS; i++) {
      const socket = connect(Number(port), '127.0.0.1');
      socket.on('error', () => undefined);
      socket.on('data', (data) => slowAnswers.push(data.toString('latin1').split(' ')[1] ?? '?'));
      socket.write(`POST /events HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${1024 * 1024}\r\n\r\n[`);
      sockets.push(socket);
    }
    const drip = setInterval(() => {
      for (const socket of sockets) if (!socket.destroyed) socket.write(Buffer.alloc(DRIP_BYTES, 0x20));
    }, 200);

    const events: Array<Record<string, unknown>> = [];
    for await (const event of generatedEvents(t.pipeline.source.generatorPath!, 200)) events.push(event);
    const statuses = new Map<number, number>();
    const accepted = new Set<unknown>();
    let peakRss = 0;
    const started = Date.now();
    for (let i = 0; Date.now() - started < ATTACK_MS; i++) {
      peakRss = Math.max(peakRss, rssOf(collector.pid));
      const answer = await fetch(`${url}/events`, { method: 'POST', body: JSON.stringify(events[i % events.length]) });
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status === 200) accepted.add(events[i % events.length]!.eventId);
      await answer.arrayBuffer();
      await sleep(50);
    }
    clearInterval(drip);
    peakRss = Math.max(peakRss, rssOf(collector.pid));
    for (const socket of sockets) socket.destroy();

    expect(peakRss, `peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MB`).toBeLessThan(CHART_LIMIT_BYTES);
    // Every ordinary request was answered: taken, or told to come back (429), never left hanging or failed.
    expect([...statuses.keys()].every((status) => status === 200 || status === 429)).toBe(true);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    // The slow clients were told 429 once the bytes held across requests passed the bound.
    expect(slowAnswers.filter((status) => status === '429').length).toBeGreaterThan(0);

    const after = await fetch(`${url}/events`, { method: 'POST', body: JSON.stringify(events[0]) });
    expect(after.status).toBe(200);
    accepted.add(events[0]!.eventId);
    await waitFor(`${accepted.size} staged events`, async () => (await countRows(t.db, 'stg_pageviews')) >= accepted.size);
    expect(await countRows(t.db, 'stg_pageviews')).toBe(accepted.size);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });
});
