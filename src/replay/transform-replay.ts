import { ConfigError } from '../errors.ts';
import type { ClusterAdmin, PartitionOffsets } from '../kafka/cluster-admin.ts';
import { classifyMySqlError } from '../mysql/errors.ts';
import type { MySqlPool } from '../mysql/pool.ts';
import { clearAppliedOrigins } from '../mysql/applied-origins.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import { groupIdOf } from '../pipeline/topology.ts';

export type ReplayFrom = { kind: 'beginning' } | { kind: 'timestamp'; ms: number } | { kind: 'offsets'; offsets: PartitionOffsets };

/** What a replay of the transform does: where its group re-reads the loaded topic from, and where that topic ended. */
export interface ReplayPlan {
  groupId: string;
  topic: string;
  /** Where the transform group re-reads the loaded topic from. */
  start: PartitionOffsets;
  /** The loaded topic's end when the replay was planned: the replay is done when the group is past it. */
  end: PartitionOffsets;
}

/**
 * Plans a replay of the transform over the loaded topic. The aggregates need
 * nothing of it: they are views of the model tables, which the records read
 * again upsert (a row that comes out the same changes no aggregate).
 */
export async function planReplay(pipeline: Pipeline, admin: ClusterAdmin, from: ReplayFrom): Promise<ReplayPlan> {
  const groupId = groupIdOf(pipeline, 'transform');
  const topic = pipeline.topics.loaded;
  await refuseWhileMembers(admin, groupId);
  const [start, end] = await Promise.all([
    from.kind === 'beginning'
      ? admin.startOffsets(topic)
      : from.kind === 'timestamp'
        ? admin.offsetsAtTime(topic, from.ms)
        : checkedOffsets(admin, topic, from.offsets),
    admin.endOffsets(topic),
  ]);
  return { groupId, topic, start, end };
}

/**
 * Moves the group back (Kafka first: were MySQL reset first and Kafka then
 * failed, the group would go on from its old offset), then in one MySQL
 * transaction forgets the origins applied (the records read again are to
 * apply again) and moves the partitions' MySQL positions back.
 */
export async function applyReplay(plan: ReplayPlan, admin: ClusterAdmin, mysql: MySqlPool): Promise<void> {
  await refuseWhileMembers(admin, plan.groupId);
  await admin.setCommittedOffsets(plan.groupId, plan.topic, plan.start);
  const connection = await mysql.getConnection().catch((error: unknown) => {
    throw classifyMySqlError(error, 'connecting to MySQL');
  });
  try {
    await connection.beginTransaction();
    await clearAppliedOrigins(connection, plan.groupId);
    await connection.query(
      `INSERT INTO kelt_offsets (group_id, topic, partition_id, next_offset, updated_at) VALUES ?
       ON DUPLICATE KEY UPDATE next_offset = VALUES(next_offset), updated_at = VALUES(updated_at)`,
      [[...plan.start].map(([partition, offset]) => [plan.groupId, plan.topic, partition, offset.toString(), new Date()])],
    );
    await connection.commit();
  } catch (error) {
    await connection.rollback().catch((rollbackError: unknown) => {
      (error as Error & { rollbackError?: unknown }).rollbackError = rollbackError;
    });
    throw classifyMySqlError(error, 'resetting the transform for a replay');
  } finally {
    connection.release();
  }
}

/** Refuses while the transform group has members: a replay and a rebuild need the transform stopped. */
export async function refuseWhileMembers(admin: ClusterAdmin, groupId: string): Promise<void> {
  const [group] = await admin.describeGroups([groupId]);
  const members = (group?.members ?? []).map((member) => `${member.clientId}@${member.host}`);
  if (members.length > 0) {
    throw new ConfigError(
      `the transform group ${groupId} has ${members.length} member(s) (${members.join(', ')}): stop them (scale the transform to 0) and replay again`,
    );
  }
}

async function checkedOffsets(admin: ClusterAdmin, topic: string, offsets: PartitionOffsets): Promise<PartitionOffsets> {
  const [starts, ends] = await Promise.all([admin.startOffsets(topic), admin.endOffsets(topic)]);
  const problems = [...offsets].flatMap(([partition, offset]) =>
    !starts.has(partition)
      ? [`${topic} has no partition ${partition}`]
      : offset < starts.get(partition)! || offset > ends.get(partition)!
        ? [`partition ${partition}: ${offset} is outside ${starts.get(partition)}–${ends.get(partition)}`]
        : [],
  );
  if (problems.length > 0) throw new ConfigError('cannot replay from those offsets', problems);
  return offsets;
}
