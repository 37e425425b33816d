import type { CollectorLoad } from './collector-load.ts';
import type { PeerRace } from './peer-race.ts';

/** The benchmark's figures under stable keys (docs/benchmarks/README.md documents them), and their report. */
export interface BenchReport {
  schema: 'kelt-bench/2';
  date: string;
  machine: { cores: number; memoryGiB: number; node: string };
  events: number;
  stages: Record<
    'extract' | 'load' | 'transform',
    {
      recordsPerSecond: number;
      cpuSecondsPer1k: number;
      peakRssMb: number;
      /** records/s ÷ the naive baseline's records/s for the same stage. */
      baselineRatio: number;
      /** records/s ÷ the machine's ceiling for the stage (consumer perf for extract, multi-row INSERT rows/s for load and transform). */
      ceilingFraction: number;
    }
  >;
  baseline: Record<'extract' | 'load' | 'transform', { records: number; recordsPerSecond: number }>;
  ceilings: { consumerPerfRecordsPerSecond: number; insertStagingRowsPerSecond: number; insertModelRowsPerSecond: number };
  workerScaling: Array<{ threads: number; recordsPerSecond: number }>;
  /** kelt's extract + load against Redpanda Connect, same JSON topic into tables of one shape. */
  peer: PeerRace;
  endToEnd: {
    sustainedRate: number;
    steps: Array<{ targetRate: number; producedRate: number; keptUp: boolean; drainSeconds: number; latencyP50: number; latencyP99: number }>;
    at50: { rate: number; latencyP50: number; latencyP99: number };
    at80: { rate: number; latencyP50: number; latencyP99: number };
  };
  /** Each stage's record age at its commit at everyday rates (the aggregates on). */
  latency: Array<{
    targetRate: number;
    producedRate: number;
    keptUp: boolean;
    byStage: Record<'extract' | 'load' | 'transform', { p50: number; p99: number; atFetchP50: number; atFetchP99: number; maxAtMost: number }>;
  }>;
  /** `kelt collect` under an HTTP load generator (autocannon). */
  collector: CollectorLoad[];
  /** Transform with the example's aggregate tables and without, alternated. */
  aggregates: {
    tables: string[];
    onRecordsPerSecond: number;
    offRecordsPerSecond: number;
    costPercent: number;
    runs: Array<{ aggregates: 'on' | 'off'; recordsPerSecond: number; cpuSecondsPer1k: number }>;
  };
  overhead: {
    metricsOnRecordsPerSecond: number;
    metricsOffRecordsPerSecond: number;
    costPercent: number;
    runs: Array<{ metrics: 'on' | 'off'; recordsPerSecond: number }>;
  };
  targets: Array<{ target: string; measured: string; met: boolean }>;
}

const n = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';

export function targetsOf(r: BenchReport): BenchReport['targets'] {
  const scaling = r.workerScaling.find((s) => s.threads === 2)!.recordsPerSecond / r.workerScaling.find((s) => s.threads === 1)!.recordsPerSecond;
  const peak = Math.max(...Object.values(r.stages).map((s) => s.peakRssMb));
  return [
    { target: 'extract + load ≥ 0.6× Redpanda Connect, steady state', measured: `${n(r.peer.steadyRatio, 2)}×`, met: r.peer.steadyRatio >= 0.6 },
    { target: 'extract + load ≥ 0.5× Redpanda Connect, from start', measured: `${n(r.peer.fromStartRatio, 2)}×`, met: r.peer.fromStartRatio >= 0.5 },
    { target: 'load ≥ 25× the naive baseline', measured: `${n(r.stages.load.baselineRatio, 1)}×`, met: r.stages.load.baselineRatio >= 25 },
    {
      target: 'load ≥ 50% of the multi-row INSERT rate',
      measured: `${n(r.stages.load.ceilingFraction * 100)}%`,
      met: r.stages.load.ceilingFraction >= 0.5,
    },
    {
      target: 'extract ≥ 40% of the consumer-perf rate (transactions on)',
      measured: `${n(r.stages.extract.ceilingFraction * 100)}%`,
      met: r.stages.extract.ceilingFraction >= 0.4,
    },
    { target: 'transform: 2 threads ≥ 1.7× 1 thread', measured: `${n(scaling, 2)}×`, met: scaling >= 1.7 },
    { target: 'end to end ≥ 15,000 pageviews/s sustained', measured: `${n(r.endToEnd.sustainedRate)}/s`, met: r.endToEnd.sustainedRate >= 15_000 },
    { target: 'p99 ≤ 1 s at 50% of the sustained rate', measured: `${n(r.endToEnd.at50.latencyP99, 2)} s`, met: r.endToEnd.at50.latencyP99 <= 1 },
    { target: 'p99 ≤ 2 s at 80% of the sustained rate', measured: `${n(r.endToEnd.at80.latencyP99, 2)} s`, met: r.endToEnd.at80.latencyP99 <= 2 },
    { target: 'each stage ≤ 250 MB peak RSS', measured: `${n(peak)} MB (largest)`, met: peak <= 250 },
  ];
}

export function markdownOf(r: BenchReport, svgName: string): string {
  const stageRows = (['extract', 'load', 'transform'] as const).map((stage) => {
    const s = r.stages[stage];
    return `| ${stage} | ${n(s.recordsPerSecond)} | ${n(r.baseline[stage].recordsPerSecond)} | ${n(s.baselineRatio, 1)}× | ${n(s.ceilingFraction * 100)}% | ${n(s.cpuSecondsPer1k, 3)} | ${n(s.peakRssMb)} |`;
  });
  return `# kelt benchmark, ${r.date}

Machine: ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; Kafka, the registry, MariaDB and
kelt on the same machine, on loopback. ${n(r.events)} pageviews in the pre-filled topic (12 partitions).
Produced by \`npm run bench\`; the figures are in [${r.date}.json](${r.date}.json).

![records per second per stage](${svgName})

## Each stage alone, from cold

Each stage runs as its own process (\`kelt <stage>\`) over a topic that already holds every record;
records/s counts from the member joining its group until its lag is 0. CPU is the process's user +
system time over the same span (all threads), peak RSS its high-water mark.

| stage | kelt records/s | naive records/s | × naive | of ceiling | CPU s / 1k records | peak RSS MB |
|---|---|---|---|---|---|---|
${stageRows.join('\n')}

Ceilings on this machine: Kafka's ConsumerPerformance read ${n(r.ceilings.consumerPerfRecordsPerSecond)} records/s from the raw
topic (extract's ceiling); multi-row upserts of the same rows reached ${n(r.ceilings.insertStagingRowsPerSecond)} rows/s into the
staging table (load's) and ${n(r.ceilings.insertModelRowsPerSecond)} rows/s into the model table (transform's).

The naive baseline is the tutorial way on the same data: \`eachMessage\`, an awaited send or one
INSERT per record, the transform on the main thread.

## Worker scaling (transform)

| pool threads | records/s |
|---|---|
${r.workerScaling.map((s) => `| ${s.threads} | ${n(s.recordsPerSecond)} |`).join('\n')}

## Against the peer: Redpanda Connect

The job a user compares first: ${n(r.peer.records)} JSON pageviews already in a topic (12 partitions) upserted
by primary key into a MariaDB table of the staging table's shape. kelt runs \`extract\` and \`load\` as two
processes (validation against the schema, the \`extracted\` topic, exactly once); Redpanda Connect runs
\`kafka_franz\` → \`sql_insert\` with \`ON DUPLICATE KEY UPDATE\`, batches of 1,000 rows, 4 in flight, 2 pipeline
threads (at least once, no validation, no intermediate topic). Runs alternate, each from new consumer
groups into an emptied table; rows/s from the processes' start, and from the first row in MySQL to the
last (steady state). CPU is seconds per 1,000 rows from start to the last row.

| run | system | rows/s from start | rows/s steady | CPU own | CPU broker | CPU MariaDB | peak RSS MB |
|---|---|---|---|---|---|---|---|
${r.peer.runs.map((run, i) => `| ${i + 1} | ${run.racer} | ${n(run.fromStartRowsPerSecond)} | ${n(run.steadyRowsPerSecond)} | ${n(run.cpuPer1k.racer, 3)} | ${n(run.cpuPer1k.broker, 3)} | ${n(run.cpuPer1k.mariadb, 3)} | ${n(run.peakRssMb)} |`).join('\n')}

kelt ÷ Redpanda Connect: **${n(r.peer.steadyRatio, 2)}× in steady state, ${n(r.peer.fromStartRatio, 2)}× from start** (means of the runs).

## End to end

All three stages as processes, a producer at a rate rising ×1.25 per step (20 s each, 5 s pause
between); a step is kept up when every stage's lag is back to 0 within 3 s of the last record
produced and p99 latency stays within 5 s. Latency is from each
record's producer timestamp to transform's MySQL commit (kelt_end_to_end_latency_seconds, interpolated).

| target rate/s | produced rate/s | kept up | drained after s | p50 s | p99 s |
|---|---|---|---|---|---|
${r.endToEnd.steps.map((s) => `| ${n(s.targetRate)} | ${n(s.producedRate)} | ${s.keptUp ? 'yes' : 'no'} | ${n(s.drainSeconds, 1)} | ${n(s.latencyP50, 3)} | ${n(s.latencyP99, 3)} |`).join('\n')}

Highest sustained rate: **${n(r.endToEnd.sustainedRate)} pageviews/s**. At 50% of it (${n(r.endToEnd.at50.rate)}/s): p50 ${n(r.endToEnd.at50.latencyP50, 3)} s,
p99 ${n(r.endToEnd.at50.latencyP99, 3)} s. At 80% (${n(r.endToEnd.at80.rate)}/s): p50 ${n(r.endToEnd.at80.latencyP50, 3)} s, p99 ${n(r.endToEnd.at80.latencyP99, 3)} s.

## Latency at everyday rates

The same three processes at fixed rates, the example's aggregates on: each record's age at its stage's
commit (its producer timestamp to the stage's Kafka or MySQL commit; kelt_end_to_end_latency_seconds per
stage, interpolated; "max ≤" is the upper bound of the highest bucket reached).

| rate/s | produced/s | extract p50 / p99 s | load p50 / p99 s | transform p50 / p99 / max ≤ s |
|---|---|---|---|---|
${r.latency.map((l) => `| ${n(l.targetRate)} | ${n(l.producedRate)} | ${n(l.byStage.extract.p50, 3)} / ${n(l.byStage.extract.p99, 3)} | ${n(l.byStage.load.p50, 3)} / ${n(l.byStage.load.p99, 3)} | ${n(l.byStage.transform.p50, 3)} / ${n(l.byStage.transform.p99, 3)} / ${n(l.byStage.transform.maxAtMost, 2)} |`).join('\n')}

## The HTTP collector

\`kelt collect\` under autocannon (closed loop: each connection has one request in flight), every request
with distinct events; an event counts once Kafka acknowledged it (the collector's own counter). CPU is the
collector process's over the run.

| events per request | connections | events accepted/s | requests/s | p50 / p99 ms | not accepted | CPU s / 1k events | peak RSS MB |
|---|---|---|---|---|---|---|---|
${r.collector.map((c) => `| ${c.eventsPerRequest} | ${c.connections} | ${n(c.acceptedEventsPerSecond)} | ${n(c.requestsPerSecond)} | ${n(c.latencyP50Ms, 1)} / ${n(c.latencyP99Ms, 1)} | ${n(c.notAccepted + c.errors)} | ${n(c.collectorCpuSecondsPer1k, 3)} | ${n(c.collectorPeakRssMb)} |`).join('\n')}

## Instrumentation

Transform with metrics on and off, same data, in the order off, on, on, off, off, on:
${n(r.overhead.metricsOnRecordsPerSecond)} vs ${n(r.overhead.metricsOffRecordsPerSecond)} records/s (mean of three runs each): cost
${n(r.overhead.costPercent, 1)}%. Runs: ${r.overhead.runs.map((run) => `${run.metrics} ${n(run.recordsPerSecond)}`).join(', ')}.

## Aggregates

Transform with the example pipeline's aggregate tables (${r.aggregates.tables.join(', ')}) and without them,
same data, in the order off, on, on, off: ${n(r.aggregates.onRecordsPerSecond)} vs ${n(r.aggregates.offRecordsPerSecond)} records/s
(mean of two runs each): cost ${n(r.aggregates.costPercent, 1)}%. Runs: ${r.aggregates.runs.map((run) => `${run.aggregates} ${n(run.recordsPerSecond)} (${n(run.cpuSecondsPer1k, 3)} CPU s/1k)`).join(', ')}.

## Targets

| target | measured | met |
|---|---|---|
${r.targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`).join('\n')}
`;
}

/** A horizontal bar chart: per stage, the naive baseline, kelt and the ceiling, in records/s. */
export function svgOf(r: BenchReport): string {
  const rows = (['extract', 'load', 'transform'] as const).flatMap((stage) => [
    { label: `${stage}: naive`, value: r.baseline[stage].recordsPerSecond, color: '#b0b0b0' },
    { label: `${stage}: kelt`, value: r.stages[stage].recordsPerSecond, color: '#2f6fb3' },
    {
      label: `${stage}: ceiling`,
      value:
        stage === 'extract'
          ? r.ceilings.consumerPerfRecordsPerSecond
          : stage === 'load'
            ? r.ceilings.insertStagingRowsPerSecond
            : r.ceilings.insertModelRowsPerSecond,
      color: '#7fb77e',
    },
  ]);
  const max = Math.max(...rows.map((row) => row.value));
  const barHeight = 18;
  const left = 150;
  const width = 520;
  const height = rows.length * (barHeight + 6) + 40;
  const bars = rows.map((row, i) => {
    const y = 30 + i * (barHeight + 6);
    const w = Math.max(1, (row.value / max) * width);
    return `<text x="${left - 8}" y="${y + 13}" text-anchor="end">${row.label}</text><rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${row.color}"/><text x="${(left + w + 6).toFixed(1)}" y="${y + 13}">${n(row.value)}/s</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 110}" height="${height}" font-family="sans-serif" font-size="12">
<text x="${left}" y="18" font-weight="bold">records per second, ${r.date} (${r.machine.cores} cores, everything on loopback)</text>
${bars.join('\n')}
</svg>
`;
}
