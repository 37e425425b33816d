import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterAdmin } from '../../src/kafka/cluster-admin.ts';
import type { Endpoints } from '../../src/config/endpoints.ts';
import { loadPipeline } from '../../src/pipeline/spec.ts';
import { caughtUp, stageLag } from '../../src/status/lag.ts';
import type { StageName } from '../../src/pipeline/topology.ts';
import { StageProcess } from '../stage-process.ts';
import { processUsage } from './process-usage.ts';

const logDir = mkdtempSync(join(tmpdir(), 'kelt-bench-logs-'));

export interface StageRunResult {
  stage: StageName;
  records: number;
  /** From the member joining its group until the group's lag is 0. */
  seconds: number;
  recordsPerSecond: number;
  /** User + system CPU of the process (all its threads) over the same span, per 1,000 records. */
  cpuSecondsPer1k: number;
  peakRssMb: number;
  /** The stage's own memory figures (its /metrics) at the largest RSS it reported: where the RSS is. Absent with KELT_METRICS off. */
  atPeak?: MemorySample;
}

/** From prom-client's process metrics: the main thread's V8 heap and the memory outside it (Buffers); worker threads' heaps are in neither. */
export interface MemorySample {
  rssMb: number;
  heapTotalMb: number;
  externalMb: number;
}

async function memorySample(port: number): Promise<MemorySample> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const mb = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN) / 1_048_576;
  return {
    rssMb: mb('process_resident_memory_bytes'),
    heapTotalMb: mb('nodejs_heap_size_total_bytes'),
    externalMb: mb('nodejs_external_memory_bytes'),
  };
}

/**
 * Runs one stage as its own process (`kelt <stage>`, as in production) over
 * an input topic that already holds `records` records, and measures it until
 * its group has no lag.
 */
export async function runStageToEnd(
  admin: ClusterAdmin,
  stage: StageName,
  { specPath, endpoints, records, env = {} }: { specPath: string; endpoints: Endpoints; records: number; env?: Record<string, string> },
): Promise<StageRunResult> {
  const pipeline = loadPipeline(specPath);
  const member = new StageProcess(stage, specPath, endpoints, { logFile: join(logDir, `${pipeline.name}-${stage}.log`), env });
  try {
    await member.joined(120_000);
    const port = env.KELT_METRICS === 'off' ? undefined : await member.httpPort();
    let atPeak = port === undefined ? undefined : await memorySample(port);
    let sampled = 0;
    const started = performance.now();
    const before = processUsage(member.pid);
    let peakRssMb = before.peakRssMb;
    for (;;) {
      if (!member.running) throw new Error(`${stage} exited:\n${member.logTail()}`);
      const lag = await stageLag(admin, pipeline, stage);
      peakRssMb = processUsage(member.pid).peakRssMb;
      // Once a second: scraping /metrics costs the stage CPU.
      if (port !== undefined && performance.now() - sampled > 1_000) {
        sampled = performance.now();
        const sample = await memorySample(port);
        if (sample.rssMb > (atPeak?.rssMb ?? 0)) atPeak = sample;
      }
      if (caughtUp(lag)) break;
      if (performance.now() - started > 900_000) throw new Error(`${stage} did not catch up within 15 minutes`);
      await sleep(100);
    }
    const seconds = (performance.now() - started) / 1000;
    const after = processUsage(member.pid);
    return {
      stage,
      records,
      seconds,
      recordsPerSecond: records / seconds,
      cpuSecondsPer1k: ((after.cpuSeconds - before.cpuSeconds) / records) * 1000,
      peakRssMb: Math.max(peakRssMb, after.peakRssMb),
      atPeak,
    };
  } finally {
    if (member.running) await member.signal('SIGTERM');
  }
}
