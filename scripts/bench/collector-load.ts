import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { StageProcess } from '../stage-process.ts';
import type { BenchFixture } from './fixture.ts';
import { processUsage } from './process-usage.ts';
import { generatedEvents } from '../../src/produce/event-source.ts';

const logDir = fileURLToPath(new URL('../../test-results/bench-logs/', import.meta.url));

/** One load on the collector: events per request, and what it gave. */
export interface CollectorLoad {
  eventsPerRequest: number;
  connections: number;
  seconds: number;
  acceptedEventsPerSecond: number;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Requests answered other than 200 (429, 503), and requests that got no answer. */
  notAccepted: number;
  errors: number;
  collectorCpuSecondsPer1k: number;
  collectorPeakRssMb: number;
}

/**
 * `kelt collect` under autocannon (closed loop, `connections` clients each
 * with one request in flight), once with beacon-sized requests (one event)
 * and once with SDK-sized batches: accepted events/s (from the collector's
 * own counter), the response time percentiles autocannon measured, and the
 * collector's CPU per 1,000 events. Every request carries distinct events
 * (the generator's, by sequence), as a fleet of clients would.
 */
export async function collectorLoads(fixture: BenchFixture, seconds: number): Promise<CollectorLoad[]> {
  const collector = new StageProcess('collect', fixture.writeSpec('collect', {}), fixture.endpoints, {
    logFile: `${logDir}${fixture.id}-collect.log`,
  });
  try {
    const port = await collector.httpPort();
    const pool: string[] = [];
    for await (const event of generatedEvents(fixture.pipeline.source.generatorPath!, 50_000)) pool.push(JSON.stringify(event));
    const loads: CollectorLoad[] = [];
    for (const [eventsPerRequest, connections] of [
      [1, 64],
      [50, 16],
    ] as const) {
      let next = 0;
      const body = () => {
        const events: string[] = [];
        for (let i = 0; i < eventsPerRequest; i++) events.push(pool[next++ % pool.length]!);
        return `[${events.join(',')}]`;
      };
      const acceptedBefore = await acceptedEvents(port);
      const usageBefore = processUsage(collector.pid);
      const result = await autocannon({
        url: `http://127.0.0.1:${port}/events`,
        connections,
        duration: seconds,
        requests: [{ method: 'POST', headers: { 'content-type': 'application/json' }, setupRequest: (request) => ({ ...request, body: body() }) }],
      });
      const usageAfter = processUsage(collector.pid);
      const accepted = (await acceptedEvents(port)) - acceptedBefore;
      loads.push({
        eventsPerRequest,
        connections,
        seconds,
        acceptedEventsPerSecond: accepted / seconds,
        requestsPerSecond: result.requests.average,
        latencyP50Ms: result.latency.p50,
        latencyP99Ms: result.latency.p99,
        notAccepted: result.non2xx,
        errors: result.errors + result.timeouts,
        collectorCpuSecondsPer1k: ((usageAfter.cpuSeconds - usageBefore.cpuSeconds) / Math.max(1, accepted)) * 1000,
        collectorPeakRssMb: usageAfter.peakRssMb,
      });
    }
    return loads;
  } finally {
    await collector.stopWithin(30_000);
  }
}

async function acceptedEvents(port: number): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^kelt_collect_events_accepted_total\{[^}]*\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
}
