/**
 * npm run bench: kelt's stages against the real local stack, the naive
 * baseline and the machine's ceilings on the same data, the pipeline end to
 * end under a rising load. Prints a table and writes
 * docs/benchmarks/<date>.json, .md and .svg. Not a test: it measures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { openClusterAdmin, type ClusterAdmin } from '../../src/kafka/cluster-admin.ts';
import { connectTo } from '../../src/runtime/connections.ts';
import { givenOrLocalStack } from '../stack-script.ts';
import { modelTables, stagingTable } from '../../src/mysql/pipeline-tables.ts';
import { stageNames, type StageName } from '../../src/pipeline/topology.ts';
import { consumerPerfCeiling, insertCeiling } from './ceilings.ts';
import { PipelineUnderLoad, type RateStep } from './end-to-end.ts';
import { BenchFixture } from './fixture.ts';
import { collectorLoads } from './collector-load.ts';
import { createNaiveTopic, runNaive } from './naive-baseline.ts';
import { racePeer } from './peer-race.ts';
import { redpandaConnectBinary } from './redpanda-connect.ts';
import { benchOptions, type BenchPart } from './options.ts';
import { markdownOf, svgOf, targetsOf, type BenchReport } from './report.ts';
import { runStageToEnd, type StageRunResult } from './stage-run.ts';

const options = benchOptions();
const runs = (part: BenchPart) => options.only === undefined || options.only.includes(part);

const say = (message: string) => process.stderr.write(`bench: ${message}\n`);
const rate = (value: number) => `${Math.round(value).toLocaleString('en')}/s`;
const endpoints = await givenOrLocalStack();
const stages: readonly StageName[] = stageNames;

/** Each stage alone, the ceilings, worker scaling, the cost of metrics and the naive baseline, on one pre-filled topic. */
async function stageParts(admin: ClusterAdmin) {
  const fixture = await BenchFixture.create(endpoints, 12);
  try {
    say(`producing ${options.events.toLocaleString('en')} pageviews to ${fixture.pipeline.topics.raw}`);
    await fixture.produce(options.events);

    // Each stage from cold over its filled input; extract fills load's input, load transform's.
    const runs = {} as Record<StageName, StageRunResult>;
    for (const stage of stages) {
      runs[stage] = await runStageToEnd(admin, stage, {
        specPath: fixture.writeSpec(`${stage}-cold`, {}),
        endpoints: fixture.endpoints,
        records: options.events,
      });
      const atPeak = runs[stage].atPeak!;
      say(
        `${stage}: ${rate(runs[stage].recordsPerSecond)}, ${runs[stage].cpuSecondsPer1k.toFixed(3)} CPU s/1k, peak RSS ${runs[stage].peakRssMb.toFixed(0)} MB ` +
          `(at its largest sampled RSS, ${atPeak.rssMb.toFixed(0)} MB: main-thread V8 heap ${atPeak.heapTotalMb.toFixed(0)} MB, Buffers ${atPeak.externalMb.toFixed(0)} MB)`,
      );
    }

    // The ceilings, on the rows the stages just wrote.
    const consumerPerf = await consumerPerfCeiling(fixture, fixture.pipeline.topics.raw, options.events);
    const { rowsPerSecond: insertStaging } = await insertCeiling(fixture, stagingTable(fixture.pipeline), fixture.pipeline.batch.insertRows, 4);
    const { rowsPerSecond: insertModel } = await insertCeiling(fixture, modelTables(fixture.pipeline)[0]!, fixture.pipeline.batch.insertRows, 4);
    say(`ceilings: consumer perf ${rate(consumerPerf)}, INSERT staging ${rate(insertStaging)}, INSERT model ${rate(insertModel)}`);

    // Worker scaling and the cost of metrics, on the transform stage (its pool busy).
    const workerScaling: BenchReport['workerScaling'] = [];
    for (const threads of availableParallelism() > 2 ? [1, 2, 4] : [1, 2]) {
      await fixture.truncate();
      const run = await runStageToEnd(admin, 'transform', {
        specPath: fixture.writeSpec(`threads-${threads}`, { pool: { threads } }),
        endpoints: fixture.endpoints,
        records: options.events,
      });
      workerScaling.push({ threads, recordsPerSecond: run.recordsPerSecond });
      say(`transform with ${threads} thread(s): ${rate(run.recordsPerSecond)}`);
    }
    const overheadRuns: Array<{ metrics: 'on' | 'off'; recordsPerSecond: number }> = [];
    // ABBA order: a drift over the runs (the database warming up) weighs on both alike.
    for (const [i, metrics] of (['off', 'on', 'on', 'off', 'off', 'on'] as const).entries()) {
      await fixture.truncate();
      const run = await runStageToEnd(admin, 'transform', {
        specPath: fixture.writeSpec(`metrics-${i}-${metrics}`, {}),
        endpoints: fixture.endpoints,
        records: options.events,
        env: { KELT_METRICS: metrics },
      });
      overheadRuns.push({ metrics, recordsPerSecond: run.recordsPerSecond });
      say(`transform, metrics ${metrics}: ${rate(run.recordsPerSecond)}`);
    }
    const mean = (metrics: 'on' | 'off') => {
      const of = overheadRuns.filter((run) => run.metrics === metrics);
      return of.reduce((sum, run) => sum + run.recordsPerSecond, 0) / of.length;
    };
    // The example pipeline's aggregate tables against the same transform without them, alternated the same way.
    const aggregateRuns: Array<{ aggregates: 'on' | 'off'; recordsPerSecond: number; cpuSecondsPer1k: number }> = [];
    for (const [i, aggregates] of (['off', 'on', 'on', 'off'] as const).entries()) {
      await fixture.truncate();
      const transform = aggregates === 'on' ? fixture.document.transform : { ...fixture.document.transform, aggregates: [] };
      const run = await runStageToEnd(admin, 'transform', {
        specPath: fixture.writeSpec(`aggregates-${i}-${aggregates}`, { transform }),
        endpoints: fixture.endpoints,
        records: options.events,
      });
      aggregateRuns.push({ aggregates, recordsPerSecond: run.recordsPerSecond, cpuSecondsPer1k: run.cpuSecondsPer1k });
      say(`transform, aggregates ${aggregates}: ${rate(run.recordsPerSecond)}, ${run.cpuSecondsPer1k.toFixed(3)} CPU s/1k`);
    }
    const aggregateMean = (aggregates: 'on' | 'off') => {
      const of = aggregateRuns.filter((run) => run.aggregates === aggregates);
      return of.reduce((sum, run) => sum + run.recordsPerSecond, 0) / of.length;
    };

    // The naive baseline, stage by stage on the same topics.
    await createNaiveTopic(admin, fixture);
    const baseline = {} as BenchReport['baseline'];
    for (const stage of stages) {
      await fixture.truncate();
      const naive = await runNaive(fixture, stage, Math.min(options.naiveEvents, options.events));
      baseline[stage] = { records: naive.records, recordsPerSecond: naive.recordsPerSecond };
      say(`naive ${stage}: ${rate(naive.recordsPerSecond)}`);
    }
    return {
      stages: Object.fromEntries(
        stages.map((stage) => [
          stage,
          {
            recordsPerSecond: runs[stage].recordsPerSecond,
            cpuSecondsPer1k: runs[stage].cpuSecondsPer1k,
            peakRssMb: runs[stage].peakRssMb,
            baselineRatio: runs[stage].recordsPerSecond / baseline[stage].recordsPerSecond,
            ceilingFraction: runs[stage].recordsPerSecond / { extract: consumerPerf, load: insertStaging, transform: insertModel }[stage],
          },
        ]),
      ) as BenchReport['stages'],
      baseline,
      ceilings: { consumerPerfRecordsPerSecond: consumerPerf, insertStagingRowsPerSecond: insertStaging, insertModelRowsPerSecond: insertModel },
      workerScaling,
      overhead: {
        metricsOnRecordsPerSecond: mean('on'),
        metricsOffRecordsPerSecond: mean('off'),
        costPercent: ((mean('off') - mean('on')) / mean('off')) * 100,
        runs: overheadRuns,
      },
      aggregates: {
        tables: fixture.pipeline.transform.aggregates.map((aggregate) => aggregate.name),
        onRecordsPerSecond: aggregateMean('on'),
        offRecordsPerSecond: aggregateMean('off'),
        costPercent: ((aggregateMean('off') - aggregateMean('on')) / aggregateMean('off')) * 100,
        runs: aggregateRuns,
      },
    };
  } finally {
    await fixture.drop();
  }
}

/** kelt's extract + load against Redpanda Connect on the same JSON topic, alternating. */
async function peerPart(): Promise<BenchReport['peer']> {
  const binary = await redpandaConnectBinary();
  const fixture = await BenchFixture.create(endpoints, 12, 'json');
  try {
    say(`producing ${options.events.toLocaleString('en')} JSON pageviews to ${fixture.pipeline.topics.raw} for the race`);
    await fixture.produce(options.events);
    const race = await racePeer(fixture, { peerBinary: binary, records: options.events, rounds: options.raceRounds }, (run) =>
      say(
        `race ${run.racer}: from start ${rate(run.fromStartRowsPerSecond)}, steady ${rate(run.steadyRowsPerSecond)}; ` +
          `CPU s/1k rows: own ${run.cpuPer1k.racer.toFixed(3)}, broker ${run.cpuPer1k.broker.toFixed(3)}, MariaDB ${run.cpuPer1k.mariadb.toFixed(3)}; peak RSS ${run.peakRssMb.toFixed(0)} MB`,
      ),
    );
    say(`race: kelt ÷ Redpanda Connect ${race.steadyRatio.toFixed(2)}× steady, ${race.fromStartRatio.toFixed(2)}× from start`);
    return race;
  } finally {
    await fixture.drop();
  }
}

/** The whole pipeline on fresh topics, at rising rates, then at 50% and 80% of the highest it kept up with. */
async function endToEndPart(): Promise<BenchReport['endToEnd']> {
  const fixture = await BenchFixture.create(endpoints, 12);
  // An admin of its own: the parts before leave the shared one idle for minutes.
  const admin = await openClusterAdmin(fixture.connections.kafka);
  const steps: RateStep[] = [];
  let at50: RateStep | undefined;
  let at80: RateStep | undefined;
  const underLoad = new PipelineUnderLoad(fixture, admin);
  try {
    await underLoad.start();
    for (let target = 2_000; target <= 40_000; target = Math.round(target * 1.25)) {
      const step = await underLoad.step(target, options.stepSeconds, 3, 5);
      steps.push(step);
      say(
        `end to end at ${rate(target)}: produced ${rate(step.producedRate)}, ${step.keptUp ? 'kept up' : 'fell behind'} (drained ${step.drainSeconds.toFixed(1)} s), p50 ${step.latencyP50.toFixed(3)} s, p99 ${step.latencyP99.toFixed(3)} s`,
      );
      if (!step.keptUp) break;
    }
    const sustained = Math.max(0, ...steps.filter((step) => step.keptUp).map((step) => step.targetRate));
    if (sustained > 0) {
      at50 = await underLoad.step(Math.round(sustained * 0.5), 30, 3, Number.POSITIVE_INFINITY);
      at80 = await underLoad.step(Math.round(sustained * 0.8), 30, 3, Number.POSITIVE_INFINITY);
      say(
        `at 50%: p50 ${at50.latencyP50.toFixed(3)} s, p99 ${at50.latencyP99.toFixed(3)} s; at 80%: p50 ${at80.latencyP50.toFixed(3)} s, p99 ${at80.latencyP99.toFixed(3)} s`,
      );
    }
    return {
      sustainedRate: sustained,
      steps,
      at50: { rate: at50?.targetRate ?? 0, latencyP50: at50?.latencyP50 ?? Number.NaN, latencyP99: at50?.latencyP99 ?? Number.NaN },
      at80: { rate: at80?.targetRate ?? 0, latencyP50: at80?.latencyP50 ?? Number.NaN, latencyP99: at80?.latencyP99 ?? Number.NaN },
    };
  } finally {
    await underLoad.stop();
    await admin.close();
    await fixture.drop();
  }
}

/**
 * Everyday rates (500, 1,000, 2,000 pageviews/s, the example's aggregates on):
 * each stage's record age at its commit, p50/p99 and the highest bucket reached.
 */
async function latencyPart(): Promise<BenchReport['latency']> {
  const fixture = await BenchFixture.create(endpoints, 12);
  const admin = await openClusterAdmin(fixture.connections.kafka);
  const underLoad = new PipelineUnderLoad(fixture, admin);
  const steps: BenchReport['latency'] = [];
  try {
    await underLoad.start();
    for (const target of [500, 1_000, 2_000]) {
      const step = await underLoad.step(target, options.stepSeconds, 3, Number.POSITIVE_INFINITY);
      steps.push({ targetRate: target, producedRate: step.producedRate, keptUp: step.keptUp, byStage: step.byStage });
      const parts = stages.map((stage) => {
        const { p50, p99, maxAtMost, atFetchP50, atFetchP99 } = step.byStage[stage];
        return `${stage} on arrival p50 ${atFetchP50.toFixed(3)} / p99 ${atFetchP99.toFixed(3)}, at commit p50 ${p50.toFixed(3)} / p99 ${p99.toFixed(3)} / max ≤ ${maxAtMost} s`;
      });
      say(`latency at ${rate(target)} (produced ${rate(step.producedRate)}): ${parts.join('; ')}`);
    }
    return steps;
  } finally {
    await underLoad.stop();
    await admin.close();
    await fixture.drop();
  }
}

/** `kelt collect` under an HTTP load generator: one event per request (beacons), then batches of 50. */
async function collectorPart(): Promise<BenchReport['collector']> {
  const fixture = await BenchFixture.create(endpoints, 12);
  try {
    const loads = await collectorLoads(fixture, options.stepSeconds);
    for (const load of loads) {
      say(
        `collector, ${load.eventsPerRequest} event(s) per request × ${load.connections} connections: ${rate(load.acceptedEventsPerSecond)} events accepted (${rate(load.requestsPerSecond)} requests), ` +
          `p50 ${load.latencyP50Ms.toFixed(1)} ms, p99 ${load.latencyP99Ms.toFixed(1)} ms, not accepted ${load.notAccepted}, errors ${load.errors}; ` +
          `${load.collectorCpuSecondsPer1k.toFixed(3)} CPU s/1k events, peak RSS ${load.collectorPeakRssMb.toFixed(0)} MB`,
      );
    }
    return loads;
  } finally {
    await fixture.drop();
  }
}

const admin = await openClusterAdmin(connectTo(endpoints, 'warn', 'bench').kafka);
try {
  const stageFigures = runs('stages') ? await stageParts(admin) : undefined;
  const peer = runs('peer') ? await peerPart() : undefined;
  const endToEnd = runs('end-to-end') ? await endToEndPart() : undefined;
  const latency = runs('latency') ? await latencyPart() : undefined;
  const collector = runs('collector') ? await collectorPart() : undefined;
  if (stageFigures === undefined || peer === undefined || endToEnd === undefined || latency === undefined || collector === undefined) {
    console.log(JSON.stringify({ ...stageFigures, peer, endToEnd, latency, collector }, null, 2));
  } else {
    const date = new Date().toISOString().slice(0, 10);
    const report: BenchReport = {
      schema: 'kelt-bench/2',
      date,
      machine: { cores: availableParallelism(), memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.versions.node },
      events: options.events,
      ...stageFigures,
      peer,
      endToEnd,
      latency,
      collector,
      targets: [],
    };
    report.targets = targetsOf(report);
    mkdirSync(options.out, { recursive: true });
    writeFileSync(`${options.out}/${date}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${options.out}/${date}.svg`, svgOf(report));
    writeFileSync(`${options.out}/${date}.md`, markdownOf(report, `${date}.svg`));
    console.table(report.targets);
    say(`report: ${options.out}/${date}.md`);
  }
} finally {
  await admin.close();
}
