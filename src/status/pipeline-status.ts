import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterAdmin } from '../kafka/cluster-admin.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import { groupIdOf, stageNames, type StageName } from '../pipeline/topology.ts';
import { stageLag, type StageLag } from './lag.ts';

const stages: readonly StageName[] = stageNames;

export interface StageStatus extends StageLag {
  /** The group's state as the coordinator reports it (Stable, PreparingRebalance, Empty…). */
  state: string;
  members: Array<{ clientId: string; host: string; partitions: number[] }>;
  /** Records committed per second over the sampling interval. */
  recordsPerSecond: number;
}

/**
 * Each stage group's members, lag per partition and throughput: the group is
 * described once and its committed offsets read twice, `sampleMs` apart.
 */
export async function pipelineStatus(admin: ClusterAdmin, pipeline: Pipeline, sampleMs: number): Promise<StageStatus[]> {
  const before = await Promise.all(stages.map((stage) => stageLag(admin, pipeline, stage)));
  const started = performance.now();
  await sleep(sampleMs);
  const after = await Promise.all(stages.map((stage) => stageLag(admin, pipeline, stage)));
  const seconds = (performance.now() - started) / 1000;
  const groups = await admin.describeGroups(stages.map((stage) => groupIdOf(pipeline, stage)));
  return after.map((lag, i) => {
    const group = groups.find((g) => g.groupId === lag.groupId);
    return {
      ...lag,
      state: group?.state ?? 'Unknown',
      members: (group?.members ?? []).map((member) => ({
        clientId: member.clientId,
        host: member.host,
        partitions: member.assigned.get(lag.topic) ?? [],
      })),
      recordsPerSecond: Math.max(0, lag.consumed - before[i]!.consumed) / seconds,
    };
  });
}

/** A plain-text view of the statuses, for a terminal. */
export function formatStatus(pipeline: Pipeline, statuses: readonly StageStatus[]): string {
  const lines = [`pipeline ${pipeline.name}`];
  for (const status of statuses) {
    lines.push(
      '',
      `${status.stage}  group ${status.groupId} (${status.state}), ${status.members.length} member(s), ` +
        `lag ${status.lag.toLocaleString('en')}, ${Math.round(status.recordsPerSecond).toLocaleString('en')} records/s`,
    );
    for (const member of status.members) {
      lines.push(`  member ${member.clientId}@${member.host}: partitions ${member.partitions.join(',') || 'none'}`);
    }
    lines.push(`  ${'partition'.padStart(9)} ${'committed'.padStart(12)} ${'end'.padStart(12)} ${'lag'.padStart(10)}`);
    for (const p of status.partitions) {
      const committed = p.committed < 0 ? '-' : p.committed.toLocaleString('en');
      lines.push(
        `  ${String(p.partition).padStart(9)} ${committed.padStart(12)} ${p.end.toLocaleString('en').padStart(12)} ${p.lag.toLocaleString('en').padStart(10)}`,
      );
    }
  }
  return lines.join('\n');
}
