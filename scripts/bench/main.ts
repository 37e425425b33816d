/**
 * npm run bench: kelt's stages against the real local stack, a naive
 * baseline and the machine's ceilings on the same data. Prints a table and
 * writes docs/benchmarks/<date>.json, .md and .svg. Not a test: it asserts
 * nothing, it measures.
 */
import { Command, InvalidArgumentError } from 'commander';
import { readEnv, endpointsFrom } from '../../src/config/env.ts';
import type { StageName } from '../../src/stages/stage-runner.ts';
import { BenchFixture } from './fixture.ts';
import { runStageToEnd, type StageRunResult } from './stage-run.ts';

const sections = ['stages', 'overhead'] as const;
type Section = (typeof sections)[number];

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new InvalidArgumentError('must be a positive integer');
  return number;
}

const options = new Command('bench')
  .option('-n, --events <count>', 'pageviews in the pre-filled topic', positiveInteger, 200_000)
  .option('--only <sections>', `comma-separated: ${sections.join(',')}`, sections.join(','))
  .parse()
  .opts<{ events: number; only: string }>();
const only = new Set(options.only.split(',') as Section[]);

const say = (message: string) => process.stderr.write(`bench: ${message}\n`);
const endpoints = endpointsFrom(readEnv());
const fixture = await BenchFixture.create(endpoints, 12);
const admin = fixture.connections.kafka.admin();
await admin.connect();
const results: Record<string, unknown> = {};
try {
  say(`producing ${options.events.toLocaleString('en')} pageviews to ${fixture.pipeline.topics.raw}`);
  await fixture.produce(options.events);
  const stageRuns: StageRunResult[] = [];
  for (const stage of ['extract', 'load', 'transform'] as StageName[]) {
    if (stage !== 'extract') await fixture.truncate();
    const run = await runStageToEnd(admin, stage, fixture.writeSpec(`${stage}-cold`, {}), fixture.endpoints, options.events);
    say(`${stage}: ${Math.round(run.recordsPerSecond).toLocaleString('en')} records/s, ${run.cpuSecondsPer1k.toFixed(3)} CPU s/1k, peak RSS ${run.peakRssMb.toFixed(0)} MB`);
    stageRuns.push(run);
  }
  results.stages = stageRuns;

  if (only.has('overhead')) {
    const overhead: Array<{ metrics: 'on' | 'off'; recordsPerSecond: number; cpuSecondsPer1k: number }> = [];
    for (const [i, metrics] of (['off', 'on', 'off', 'on'] as const).entries()) {
      await fixture.truncate();
      const run = await runStageToEnd(admin, 'transform', fixture.writeSpec(`overhead-${i}-${metrics}`, {}), fixture.endpoints, options.events, {
        KELT_METRICS: metrics,
      });
      say(`transform, metrics ${metrics}: ${Math.round(run.recordsPerSecond).toLocaleString('en')} records/s, ${run.cpuSecondsPer1k.toFixed(3)} CPU s/1k`);
      overhead.push({ metrics, recordsPerSecond: run.recordsPerSecond, cpuSecondsPer1k: run.cpuSecondsPer1k });
    }
    results.overhead = overhead;
  }
  console.log(JSON.stringify(results, null, 2));
} finally {
  await admin.disconnect();
  await fixture.drop();
}
