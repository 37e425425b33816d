import { ConfigError } from '../errors.ts';
import type { ClusterAdmin, PartitionOffsets } from '../kafka/cluster-admin.ts';
import { classifyMySqlError } from '../mysql/errors.ts';
import type { MySqlPool } from '../mysql/pool.ts';
import { writeReplayFloors } from '../mysql/replay-floors.ts';
import { clearAppliedOrigins } from '../mysql/applied-origins.ts';
import { quoteId } from '../mysql/table.ts';
import type { Pipeline } from '../pipeline/spec.ts';
import { groupIdOf } from '../pipeline/topology.ts';
import { timestampText } from '../values/temporal.ts';

export type ReplayFrom = { kind: 'beginning' } | { kind: 'timestamp'; ms: number } | { kind: 'offsets'; offsets: PartitionOffsets };

/** What a replay of the transform does: where its group re-reads from, and which aggregate rows it rebuilds. */
export interface ReplayPlan {
  groupId: string;
  topic: string;
  /** Where the transform group re-reads the loaded topic from. */
  start: PartitionOffsets;
  /** The loaded topic's end when the replay was planned: the replay is done when the group is past it. */
  end: PartitionOffsets;
  /** Per aggregate: the tables emptied from a window on (undefined: emptied whole). */
  rebuilt: Array<{ table: string; members: string | undefined; windowColumn: string | undefined; fromMs: number | undefined }>;
  /** Per aggregate and partition: records below `untilOffset` were counted before; they add only to windows from `floorMs`. */
  floors: Array<{ table: string; partition: number; untilOffset: string; floorMs: number }>;
}

/** Why a replay cannot rebuild the pipeline's aggregates from this start, if it cannot. */
export function replayRefusal(pipeline: Pipeline, from: ReplayFrom): string | undefined {
  const aggregates = pipeline.transform.aggregates;
  if (from.kind === 'offsets' && aggregates.length > 0) {
    return `a replay from offsets cannot tell which windows of ${aggregates.map((a) => a.name).join(', ')} to rebuild: replay from a timestamp or from the beginning`;
  }
  const unwindowed = aggregates.filter((aggregate) => aggregate.window === undefined);
  if (from.kind === 'timestamp' && unwindowed.length > 0) {
    return `${unwindowed.map((a) => a.name).join(', ')} ha${unwindowed.length === 1 ? 's' : 've'} no window, so only a replay from the beginning can rebuild ${unwindowed.length === 1 ? 'it' : 'them'}`;
  }
  return undefined;
}

/**
 * Plans a replay of the transform over the loaded topic. From a timestamp,
 * each windowed aggregate is rebuilt from the start of the window holding
 * it, and the group re-reads from the earliest of those starts (records are
 * in the loaded topic after their event happened, so none of a rebuilt
 * window's records is earlier); the records it had read already add only to
 * the rebuilt windows.
 */
export async function planReplay(pipeline: Pipeline, admin: ClusterAdmin, mysql: Pick<MySqlPool, 'query'>, from: ReplayFrom): Promise<ReplayPlan> {
  const refusal = replayRefusal(pipeline, from);
  if (refusal !== undefined) throw new ConfigError(refusal);
  const groupId = groupIdOf(pipeline, 'transform');
  const topic = pipeline.topics.loaded;
  await refuseWhileMembers(admin, groupId);
  const floorOf = (sizeMs: number, ms: number) => Math.floor(ms / sizeMs) * sizeMs;
  const windowStarts = from.kind === 'timestamp' ? pipeline.transform.aggregates.map((aggregate) => floorOf(aggregate.window!.sizeMs, from.ms)) : [];
  const [start, end, positions] = await Promise.all([
    from.kind === 'beginning'
      ? admin.startOffsets(topic)
      : from.kind === 'timestamp'
        ? admin.offsetsAtTime(topic, Math.min(from.ms, ...windowStarts))
        : checkedOffsets(admin, topic, from.offsets),
    admin.endOffsets(topic),
    mysqlPositions(mysql, groupId, topic),
  ]);
  const rebuilt = pipeline.transform.aggregates.map((aggregate, a) => ({
    table: aggregate.name,
    members: aggregate.measures.some((measure) => measure.kind === 'count_distinct') ? aggregate.membersTable : undefined,
    windowColumn: aggregate.window?.as,
    fromMs: from.kind === 'timestamp' ? windowStarts[a] : undefined,
  }));
  const floors = rebuilt.flatMap(({ table, fromMs }) =>
    fromMs === undefined
      ? []
      : [...start].flatMap(([partition, offset]) => {
          const until = positions.get(partition) ?? 0n;
          return until > offset ? [{ table, partition, untilOffset: until.toString(), floorMs: fromMs }] : [];
        }),
  );
  return { groupId, topic, start, end, rebuilt, floors };
}

/**
 * Moves the group back (Kafka first: were MySQL reset first and Kafka then
 * failed, the group would go on from its old offset past emptied windows),
 * then in one MySQL transaction empties the rebuilt aggregate rows, leaves
 * the floors, forgets the origins applied (the records read again are to
 * count again) and moves the partitions' MySQL positions back.
 */
export async function applyReplay(plan: ReplayPlan, admin: ClusterAdmin, mysql: MySqlPool): Promise<void> {
  await refuseWhileMembers(admin, plan.groupId);
  await admin.setCommittedOffsets(plan.groupId, plan.topic, plan.start);
  const connection = await mysql.getConnection().catch((error: unknown) => {
    throw classifyMySqlError(error, 'connecting to MySQL');
  });
  try {
    await connection.beginTransaction();
    for (const { table, members, windowColumn, fromMs } of plan.rebuilt) {
      for (const name of members === undefined ? [table] : [table, members]) {
        if (fromMs === undefined) await connection.query(`DELETE FROM ${quoteId(name)}`);
        else await connection.query(`DELETE FROM ${quoteId(name)} WHERE ${quoteId(windowColumn!)} >= ?`, [timestampText(fromMs, 'millis')]);
      }
    }
    await writeReplayFloors(connection, plan.groupId, plan.floors);
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

async function refuseWhileMembers(admin: ClusterAdmin, groupId: string): Promise<void> {
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

async function mysqlPositions(mysql: Pick<MySqlPool, 'query'>, groupId: string, topic: string): Promise<PartitionOffsets> {
  try {
    const [rows] = await mysql.query('SELECT partition_id, next_offset FROM kelt_offsets WHERE group_id = ? AND topic = ?', [groupId, topic]);
    return new Map((rows as Array<{ partition_id: number; next_offset: number | string }>).map((row) => [row.partition_id, BigInt(row.next_offset)]));
  } catch (error) {
    throw classifyMySqlError(error, "reading the transform's positions");
  }
}
