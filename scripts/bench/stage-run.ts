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
    const started = performance.now();
    const before = processUsage(member.pid);
    let peakRssMb = before.peakRssMb;
    for (;;) {
      if (!member.running) throw new Error(`${stage} exited:\n${member.logTail()}`);
      const lag = await stageLag(admin, pipeline, stage);
      peakRssMb = processUsage(member.pid).peakRssMb;
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
    };
  } finally {
    if (member.running) await member.signal('SIGTERM');
  }
}
