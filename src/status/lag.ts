import { isRetriable } from '../kafka/errors.ts';
import type { ClusterAdmin } from '../kafka/cluster-admin.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import { retryTransient } from '../retry/retry.ts';
import { groupIdOf, inputTopicOf, type StageName } from '../pipeline/topology.ts';

export interface PartitionLag {
  partition: number;
  /** The group's committed position (-1: nothing committed yet). */
  committed: number;
  /** The log-end offset (high watermark). */
  end: number;
  lag: number;
}

export interface StageLag {
  stage: StageName;
  groupId: string;
  topic: string;
  consumed: number;
  lag: number;
  partitions: PartitionLag[];
}

/**
 * A stage group's lag per partition: the log-end offset minus the group's
 * committed offset (from the start of the log when nothing is committed).
 */
export async function stageLag(admin: ClusterAdmin, pipeline: Pipeline, stage: StageName, giveUp: () => boolean = () => false): Promise<StageLag> {
  return { stage, ...(await groupLag(admin, groupIdOf(pipeline, stage), inputTopicOf(pipeline, stage), giveUp)) };
}

/** Any consumer group's lag on one topic, kelt's or not (the benchmark's peer's). */
export async function groupLag(
  admin: ClusterAdmin,
  groupId: string,
  topic: string,
  giveUp: () => boolean = () => false,
): Promise<Omit<StageLag, 'stage'>> {
  const [ranges, position] = await retryTransient(() => Promise.all([admin.offsetRanges(topic), admin.committedOffsets(groupId, topic)]), {
    isRetriable,
    shouldStop: giveUp,
    policy: { initialMs: 100, maxMs: 2_000 },
  });
  const partitions = [...ranges]
    .map(([partition, range]) => {
      const end = Number(range.end);
      const at = Number(position.get(partition) ?? -1n);
      return { partition, committed: at, end, lag: end - (at < 0 ? Number(range.start) : at) };
    })
    .sort((a, b) => a.partition - b.partition);
  return {
    groupId,
    topic,
    consumed: partitions.reduce((sum, p) => sum + Math.max(0, p.committed), 0),
    lag: partitions.reduce((sum, p) => sum + p.lag, 0),
    partitions,
  };
}

/** Whether a group has consumed its topic to the end (and committed on every partition that holds anything). */
export const caughtUp = (lag: Omit<StageLag, 'stage'>): boolean => lag.lag === 0 && lag.partitions.every((p) => p.committed >= 0 || p.end === 0);
