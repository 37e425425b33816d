import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { javaCompatiblePartitioner } from '../../src/kafka/partitioner.ts';
import type { StageName } from '../../src/pipeline/topology.ts';
import { faultRun, stack } from '../support/fault-run.ts';
import { waitFor } from '../support/pipeline.ts';
import { PrometheusServer } from '../support/prometheus.ts';
import { noise } from '../support/example-records.ts';

const GOOD = 20_000;
const stages: StageName[] = ['extract', 'load', 'transform'];

function dashboardQueries(): string[] {
  const dashboard = JSON.parse(readFileSync(new URL('../../docker/monitoring/kelt-dashboard.json', import.meta.url), 'utf8')) as {
    panels: Array<{ targets?: Array<{ expr?: string }> }>;
  };
  return dashboard.panels.flatMap((panel) => panel.targets ?? []).flatMap((target) => (target.expr === undefined ? [] : [target.expr]));
}

async function readyz(port: number): Promise<{ status: number; body: { status: string; reasons?: string[] } }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; reasons?: string[] } };
}

describe('observability: a real Prometheus scraping the three stages', () => {
  it('counts what was produced, sees lag return to 0, and sees /readyz follow a MariaDB outage', async () => {
    let prometheus: PrometheusServer | undefined;
    const ports = new Map<StageName, number>();
    const readiness: Record<string, Array<{ stage: StageName; status: number; reasons?: string[] }>> = { during: [], after: [] };
    try {
      await faultRun({
        scenario: 'observed by Prometheus (MariaDB stopped for 20 s)',
        events: GOOD,
        rate: 2_000,
        faults: async ({ t, members, at }) => {
          for (const stage of stages) ports.set(stage, await members.get(stage)![0]!.httpPort());
          prometheus = await PrometheusServer.start(
            inject('tools').prometheus,
            stages.map((stage) => ({ job: `kelt-${stage}`, target: `127.0.0.1:${ports.get(stage)}` })),
          );
          // Two poison records: one extract cannot decode, one the transform throws on.
          const { kafka, registry } = t.connections;
          const rawId = await registry.registerAvro(`${t.pipeline.topics.raw}-value`, t.pipeline.source.schema);
          const producer = kafka.producer({ createPartitioner: javaCompatiblePartitioner });
          await producer.connect();
          await producer.send({
            topic: t.pipeline.topics.raw,
            messages: [
              { key: 'poison-bytes', value: noise(40) },
              {
                key: 'poison-url',
                value: await registry.encodeAvro(rawId, {
                  eventId: 'poison-url',
                  userId: 'u-poison',
                  url: '::',
                  referrer: null,
                  userAgent: 'Mozilla/5.0',
                  ip: '192.0.2.1',
                  ts: Date.now(),
                }),
              },
            ],
          });
          await producer.disconnect();

          await waitFor(
            'every stage ready',
            async () => {
              for (const stage of stages) if ((await readyz(ports.get(stage)!)).status !== 200) return false;
              return true;
            },
            60_000,
          );
          await at(4);
          await stack('stop', 'mariadb');
          try {
            await waitFor(
              'load and transform to report not ready',
              async () => {
                const states = await Promise.all(
                  (['load', 'transform'] as const).map(async (stage) => ({ stage, ...(await readyz(ports.get(stage)!)) })),
                );
                if (states.some(({ status }) => status !== 503)) return false;
                readiness.during = states.map(({ stage, status, body }) => ({ stage, status, reasons: body.reasons }));
                return true;
              },
              20_000,
            );
            await waitFor(
              'Prometheus to record load and transform not ready',
              async () => {
                const ready = await prometheus!.valuesBy(`kelt_stage_ready{pipeline="${t.pipeline.name}"}`, 'stage');
                return ready.load === 0 && ready.transform === 0;
              },
              20_000,
            );
          } finally {
            await at(24);
            await stack('start', 'mariadb');
          }
          await waitFor(
            'every stage ready again',
            async () => {
              const states = await Promise.all(stages.map(async (stage) => ({ stage, ...(await readyz(ports.get(stage)!)) })));
              readiness.after = states.map(({ stage, status }) => ({ stage, status }));
              return states.every(({ status }) => status === 200);
            },
            60_000,
          );
        },
        inspect: async (t) => {
          const p = prometheus!;
          const selector = `pipeline="${t.pipeline.name}"`;
          const expected = {
            consumed: { extract: GOOD + 2, load: GOOD + 1, transform: GOOD + 1 },
            written: { load: GOOD + 1, transform: GOOD },
            deadLettered: { 'extract/undecodable': 1, 'transform/transform_error': 1 },
          };
          let seen: Record<string, unknown> = {};
          await waitFor(
            'Prometheus to hold the final totals and zero lag',
            async () => {
              seen = {
                consumed: await p.valuesBy(`sum by (stage) (kelt_records_consumed_total{${selector}})`, 'stage'),
                written: await p.valuesBy(`sum by (stage) (kelt_records_written_total{${selector}}) > 0`, 'stage'),
                deadLettered: Object.fromEntries(
                  (await p.query(`sum by (stage, reason) (kelt_records_dead_lettered_total{${selector}}) > 0`)).map(({ metric, value }) => [
                    `${metric.stage}/${metric.reason}`,
                    value,
                  ]),
                ),
                lag: await p.valuesBy(`kelt:consumer_lag:sum{${selector}}`, 'stage'),
              };
              return isDeepStrictEqual(seen, { ...expected, lag: { extract: 0, load: 0, transform: 0 } });
            },
            60_000,
          ).catch((error: Error) => {
            throw new Error(`${error.message}; Prometheus last showed ${JSON.stringify(seen)}`);
          });
          // Every record transform committed was timed from its own timestamp.
          const latency = await p.valuesBy(`sum by (stage) (kelt_end_to_end_latency_seconds_count{${selector}})`, 'stage');
          expect(latency).toEqual(expected.consumed);
          const p99 = await p.query(`histogram_quantile(0.99, sum by (le) (kelt_end_to_end_latency_seconds_bucket{${selector},stage="transform"}))`);
          expect(p99[0]!.value).toBeGreaterThan(0);
          const mysqlWrites = await p.valuesBy(`sum by (stage) (kelt_mysql_write_duration_seconds_count{${selector}}) > 0`, 'stage');
          expect(Object.keys(mysqlWrites).sort()).toEqual(['load', 'transform']);
          const retries = await p.valuesBy(`sum by (stage) (kelt_batch_retries_total{${selector}})`, 'stage');
          expect(retries.load! + retries.transform!).toBeGreaterThan(0);
          const threads = await p.valuesBy(`kelt_worker_pool_threads{${selector}}`, 'stage');
          expect(Object.keys(threads).sort()).toEqual(['extract', 'transform']);
          // Every query of the Grafana dashboard runs and shows data.
          for (const expr of dashboardQueries()) {
            const samples = await p.query(expr.replaceAll('$pipeline', t.pipeline.name));
            expect(samples.length, expr).toBeGreaterThan(0);
          }
          const up = await p.valuesBy('up', 'job');
          expect(up).toEqual({ 'kelt-extract': 1, 'kelt-load': 1, 'kelt-transform': 1 });
        },
      });
    } finally {
      await prometheus?.stop();
    }
    for (const { stage, status, reasons } of readiness.during!) {
      expect(status, stage).toBe(503);
      expect(reasons?.join('; '), stage).toMatch(/MySQL/);
    }
    expect(readiness.after).toEqual(stages.map((stage) => ({ stage, status: 200 })));
  });
});
