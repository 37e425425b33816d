import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterAdmin } from '../../src/kafka/cluster-admin.ts';
import { loadPipeline, type Pipeline } from '../../src/pipeline/spec.ts';
import { stageLag } from '../../src/status/lag.ts';
import { stageNames, type StageName } from '../../src/pipeline/topology.ts';
import { StageProcess } from '../stage-process.ts';
import type { BenchFixture } from './fixture.ts';

const stages: readonly StageName[] = stageNames;

export interface RateStep {
  targetRate: number;
  producedRate: number;
  /**
   * All three stages' lag back to 0 within the drain allowance after the
   * step, and p99 latency within `maxP99Seconds`: a pipeline that drains but
   * holds records for seconds is queueing, not keeping up.
   */
  keptUp: boolean;
  drainSeconds: number;
  latencyP50: number;
  latencyP99: number;
  /** Per stage: the age of its records at its commit (a record's producer timestamp to the stage's commit). */
  byStage: Record<StageName, StageLatency>;
}

export interface StageLatency {
  p50: number;
  p99: number;
  /** The same records' age when the stage's consumer handed them over (what was spent before the stage). */
  atFetchP50: number;
  atFetchP99: number;
  /** The upper bound of the highest bucket any record of the step fell in (a histogram keeps no maximum). */
  maxAtMost: number;
}

type Buckets = Map<number, number>;

/** The cumulative buckets of a histogram (kelt_end_to_end_latency_seconds unless named) in a /metrics text. */
function latencyBuckets(text: string, histogram = 'kelt_end_to_end_latency_seconds'): Buckets {
  const buckets: Buckets = new Map();
  for (const match of text.matchAll(new RegExp(`^${histogram}_bucket\\{le="([^"]+)"[^}]*\\} (\\d+)`, 'gm'))) {
    buckets.set(match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]), Number(match[2]));
  }
  return buckets;
}

/** The upper bound of the highest bucket that gained observations between two scrapes. */
function highestBound(before: Buckets, after: Buckets): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  let highest = Number.NaN;
  let below = 0;
  for (const bound of bounds) {
    const count = (after.get(bound) ?? 0) - (before.get(bound) ?? 0);
    if (count > below) highest = bound;
    below = count;
  }
  return highest;
}

/** A quantile of the observations between two scrapes, interpolated within its bucket (as histogram_quantile does). */
export function quantile(before: Buckets, after: Buckets, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((bound) => (after.get(bound) ?? 0) - (before.get(bound) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = Number.isFinite(bounds[i]!) ? bounds[i]! : lower;
      const below = i === 0 ? 0 : counts[i - 1]!;
      const inBucket = counts[i]! - below;
      return inBucket === 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
    }
  }
  return bounds.at(-2) ?? Number.NaN;
}

/**
 * The whole pipeline as three processes on a fixture of its own, under a
 * produce load that rises step by step until the stages no longer keep up.
 */
export class PipelineUnderLoad {
  private readonly fixture: BenchFixture;
  private readonly admin: ClusterAdmin;
  private readonly members: StageProcess[] = [];
  private readonly ports = new Map<StageName, number>();
  /** The spec the stages run (its name gives their groups). */
  private pipeline: Pipeline | undefined;

  constructor(fixture: BenchFixture, admin: ClusterAdmin) {
    this.fixture = fixture;
    this.admin = admin;
  }

  async start(): Promise<void> {
    const specPath = this.fixture.writeSpec('e2e', {});
    this.pipeline = loadPipeline(specPath);
    const logDir = mkdtempSync(join(tmpdir(), 'kelt-bench-e2e-'));
    await Promise.all(
      stages.map(async (stage) => {
        const member = new StageProcess(stage, specPath, this.fixture.endpoints, { logFile: join(logDir, `${stage}.log`) });
        this.members.push(member);
        await member.joined(120_000);
        this.ports.set(stage, await member.httpPort());
      }),
    );
  }

  /** Each stage's latency histograms: at its commit, and on arrival (keyed `<stage>@fetch`). */
  private async scrape(): Promise<Map<string, Buckets>> {
    const scraped = await Promise.all(
      stages.map(async (stage) => {
        const text = await (await fetch(`http://127.0.0.1:${this.ports.get(stage)}/metrics`)).text();
        return [
          [stage, latencyBuckets(text)],
          [`${stage}@fetch`, latencyBuckets(text, 'kelt_record_age_at_fetch_seconds')],
        ] as const;
      }),
    );
    return new Map(scraped.flat());
  }

  /** Fails rather than retrying for ever: a benchmark that hangs says nothing. */
  private async totalLag(): Promise<number> {
    const deadline = Date.now() + 60_000;
    const lags = await Promise.all(stages.map((stage) => stageLag(this.admin, this.pipeline!, stage, () => Date.now() > deadline)));
    return lags.reduce((sum, lag) => sum + lag.lag, 0);
  }

  /** Produces at `rate` for `seconds`, then waits up to `drainAllowance` seconds for the lag to reach 0. */
  async step(rate: number, seconds: number, drainAllowance: number, maxP99Seconds: number): Promise<RateStep> {
    for (const member of this.members) if (!member.running) throw new Error(`${member.stage} exited during the benchmark:\n${member.logTail()}`);
    const before = await this.scrape();
    const started = performance.now();
    await this.fixture.produce(Math.round(rate * seconds), rate);
    const producedRate = (rate * seconds) / ((performance.now() - started) / 1000);
    const produced = performance.now();
    let drained = false;
    while ((performance.now() - produced) / 1000 < drainAllowance + 60) {
      if ((await this.totalLag()) === 0) {
        drained = true;
        break;
      }
      await sleep(100);
    }
    const drainSeconds = (performance.now() - produced) / 1000;
    // The last records' latency lands in the histogram with their commit.
    await sleep(200);
    const afterAll = await this.scrape();
    const beforeTransform = before.get('transform')!;
    const after = afterAll.get('transform')!;
    const latencyP99 = quantile(beforeTransform, after, 0.99);
    const byStage = Object.fromEntries(
      stages.map((stage) => {
        const [from, to] = [before.get(stage)!, afterAll.get(stage)!];
        const [fetchFrom, fetchTo] = [before.get(`${stage}@fetch`)!, afterAll.get(`${stage}@fetch`)!];
        return [
          stage,
          {
            p50: quantile(from, to, 0.5),
            p99: quantile(from, to, 0.99),
            atFetchP50: quantile(fetchFrom, fetchTo, 0.5),
            atFetchP99: quantile(fetchFrom, fetchTo, 0.99),
            maxAtMost: highestBound(from, to),
          },
        ];
      }),
    ) as Record<StageName, StageLatency>;
    // Settle before the next step: nothing in flight, background work done.
    await sleep(5_000);
    return {
      targetRate: rate,
      producedRate,
      keptUp: drained && drainSeconds <= drainAllowance && producedRate >= rate * 0.95 && latencyP99 <= maxP99Seconds,
      drainSeconds,
      latencyP50: quantile(beforeTransform, after, 0.5),
      latencyP99,
      byStage,
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.filter((member) => member.running).map((member) => member.signal('SIGTERM')));
  }
}
