import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DeadLetterFloodError } from '../errors.ts';
import { deadLetterReasons } from '../errors.ts';
import type { StageRunner } from '../stages/stage-runner.ts';
import type { StageName } from '../pipeline/topology.ts';
import type { WorkerPool } from '../threads/worker-pool.ts';

const fastBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 300];

/**
 * A stage's Prometheus metrics. Every series carries the pipeline and stage
 * labels (the registry's default labels); names follow Prometheus's
 * conventions (base units, `_total` counters, `_seconds` histograms). The
 * stages do not call this: it subscribes to the runner's and the pool's
 * events, so a batch costs one event and a few counter increments.
 */
export class StageMetrics {
  readonly registry = new Registry();
  private readonly consumed: Counter<'topic'>;
  private readonly produced: Counter;
  private readonly written: Counter;
  private readonly deadLettered: Counter<'reason'>;
  private readonly repeated: Counter;
  private readonly lateRows: Counter<'aggregate'>;
  private readonly retries: Counter;
  private readonly rebalances: Counter;
  private readonly batchSeconds: Histogram;
  private readonly mysqlSeconds: Histogram;
  private readonly workerTaskSeconds: Histogram;
  private readonly endToEndSeconds: Histogram;
  private readonly ageAtFetchSeconds: Histogram;
  private readonly batchWaitSeconds: Histogram;
  private readonly kafkaSeconds: Histogram;
  private readonly assigned: Gauge;
  readonly lag: Gauge<'topic' | 'partition'>;

  constructor(pipeline: string, stage: StageName) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ pipeline, stage });
    collectDefaultMetrics({ register: this.registry });
    this.consumed = new Counter({
      name: 'kelt_records_consumed_total',
      help: 'Records taken from the input topic and fully processed (written, forwarded or dead-lettered).',
      labelNames: ['topic'],
      registers,
    });
    this.produced = new Counter({
      name: 'kelt_records_produced_total',
      help: "Records sent to the stage's output topic.",
      registers,
    });
    this.written = new Counter({
      name: 'kelt_records_written_total',
      help: 'Records written to MySQL (staging table for load, model tables for transform).',
      registers,
    });
    this.deadLettered = new Counter({
      name: 'kelt_records_dead_lettered_total',
      help: 'Records sent to the dead-letter topic, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.repeated = new Counter({
      name: 'kelt_records_repeated_total',
      help: 'Records skipped because a record from the same raw partition and offset was applied before (a batch written twice upstream).',
      registers,
    });
    this.lateRows = new Counter({
      name: 'kelt_late_rows_total',
      help: "Rows that changed an aggregate's window after it was final (its end plus the lateness passed by the watermark); they still count.",
      labelNames: ['aggregate'],
      registers,
    });
    this.retries = new Counter({
      name: 'kelt_batch_retries_total',
      help: 'Batch attempts that failed transiently and were retried after a backoff.',
      registers,
    });
    this.rebalances = new Counter({
      name: 'kelt_rebalances_total',
      help: 'Times this member (re)joined its consumer group.',
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'kelt_batch_duration_seconds',
      help: "Time to process one partition's batch, from fetch to commit, retries included.",
      buckets: fastBuckets,
      registers,
    });
    this.mysqlSeconds = new Histogram({
      name: 'kelt_mysql_write_duration_seconds',
      help: "Time to write one batch to MySQL in one transaction (rows and the partition's position).",
      buckets: fastBuckets,
      registers,
    });
    this.workerTaskSeconds = new Histogram({
      name: 'kelt_worker_task_duration_seconds',
      help: 'Time from submitting a task (a chunk of records) to the worker pool until its result, queueing included.',
      buckets: fastBuckets,
      registers,
    });
    this.endToEndSeconds = new Histogram({
      name: 'kelt_end_to_end_latency_seconds',
      help: "Time from a record's own timestamp (set by its producer, kept through the stages) until this stage committed it; at transform, end to end.",
      buckets: latencyBuckets,
      registers,
    });
    this.ageAtFetchSeconds = new Histogram({
      name: 'kelt_record_age_at_fetch_seconds',
      help: "Time from a record's own timestamp until this stage's consumer handed it over: with kelt_end_to_end_latency_seconds, where an event's time goes (before the stage, or in it).",
      buckets: latencyBuckets,
      registers,
    });
    this.batchWaitSeconds = new Histogram({
      name: 'kelt_batch_wait_seconds',
      help: "Time a fetched batch waited before processing began (the partition's previous batch, a new assignment's work, a saturated worker pool).",
      buckets: fastBuckets,
      registers,
    });
    this.kafkaSeconds = new Histogram({
      name: 'kelt_kafka_transaction_duration_seconds',
      help: "Time in one batch's Kafka transaction: its output, dead letters and offset sent, and the commit.",
      buckets: fastBuckets,
      registers,
    });
    this.assigned = new Gauge({
      name: 'kelt_assigned_partitions',
      help: 'Partitions of the input topic this member owns.',
      registers,
    });
    this.lag = new Gauge({
      name: 'kelt_consumer_lag',
      help: "Records in the input partition beyond the group's committed offset (refreshed periodically; every member reports the whole group, so aggregate with max by partition).",
      labelNames: ['topic', 'partition'],
      registers,
    });
  }

  /** The readiness gauge, read at each scrape (the not-ready alert watches it). */
  trackReadiness(isReady: () => boolean): void {
    new Gauge({
      name: 'kelt_stage_ready',
      help: '1 when the stage is ready (joined, dependencies reachable, not paused by a fault), else 0.',
      registers: [this.registry],
      collect() {
        this.set(isReady() ? 1 : 0);
      },
    });
  }

  /** Subscribes to a running stage: its batches, retries, rebalances, paused partitions and worker pool. */
  observe(runner: StageRunner, pool?: WorkerPool<unknown, unknown>): void {
    const registers = [this.registry];
    // Every labelled series exists from the start at 0, so that rate() and
    // increase() see the first records and the first dead letter.
    this.consumed.inc({ topic: runner.inputTopic }, 0);
    for (const reason of deadLetterReasons) this.deadLettered.inc({ reason }, 0);
    runner.events.on('batch', ({ topic, messages, seconds, waitedSeconds, fetchedAtMs, report }) => {
      this.consumed.inc({ topic }, messages.length);
      if (report.produced > 0) this.produced.inc(report.produced);
      if (report.written > 0) this.written.inc(report.written);
      for (const reason of report.deadLettered) this.deadLettered.inc({ reason });
      if (report.repeated !== undefined && report.repeated > 0) this.repeated.inc(report.repeated);
      for (const [aggregate, rows] of report.lateRows ?? []) this.lateRows.inc({ aggregate }, rows);
      if (report.mysqlSeconds !== undefined) this.mysqlSeconds.observe(report.mysqlSeconds);
      if (report.kafkaSeconds !== undefined) this.kafkaSeconds.observe(report.kafkaSeconds);
      this.batchSeconds.observe(seconds);
      this.batchWaitSeconds.observe(waitedSeconds);
      const now = Date.now();
      for (const message of messages) {
        const timestamp = Number(message.timestamp);
        if (timestamp <= 0) continue;
        this.ageAtFetchSeconds.observe(Math.max(0, fetchedAtMs - timestamp) / 1000);
        this.endToEndSeconds.observe(Math.max(0, now - timestamp) / 1000);
      }
    });
    const breakerOpen = new Gauge({
      name: 'kelt_dead_letter_breaker_open',
      help: '1 while the stage holds its records because most of them would be dead-lettered (see /readyz for the reasons).',
      registers,
    });
    breakerOpen.set(0);
    runner.events.on('retry', ({ error }) => {
      this.retries.inc();
      if (error instanceof DeadLetterFloodError) breakerOpen.set(1);
    });
    runner.events.on('batch', () => breakerOpen.set(0));
    runner.events.on('rebalance', ({ partitions }) => {
      this.rebalances.inc();
      this.assigned.set(partitions.length);
    });
    new Gauge({
      name: 'kelt_paused_partitions',
      help: 'Input partitions whose fetching is paused (a dependency is failing, or the worker pool is saturated).',
      registers,
      collect() {
        this.set(runner.pausedPartitions());
      },
    });
    if (pool === undefined) return;
    pool.events.on('task', (seconds) => this.workerTaskSeconds.observe(seconds));
    new Gauge({
      name: 'kelt_worker_pool_threads',
      help: "Threads in the stage's worker pool.",
      registers,
      collect() {
        this.set(pool.threads);
      },
    });
    let counted = 0;
    new Counter({
      name: 'kelt_worker_pool_busy_seconds_total',
      help: 'Thread-seconds the worker pool spent running tasks; rate() over threads is its utilisation.',
      registers,
      collect() {
        const busy = pool.busySeconds;
        if (busy > counted) this.inc(busy - counted);
        counted = Math.max(counted, busy);
      },
    });
    new Gauge({
      name: 'kelt_worker_pool_queue_depth',
      help: 'Tasks waiting for a worker thread.',
      registers,
      collect() {
        this.set(pool.queueSize);
      },
    });
  }
}
