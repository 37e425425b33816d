import type { Queryable } from './queryable.ts';
import { classifyMySqlError } from './errors.ts';
import type { MySqlPool } from './pool.ts';

/**
 * kelt_replay_floors: what a replay from a timestamp rebuilt. For each
 * windowed aggregate it deleted the windows from `floor_ms` on, and its
 * transform group re-reads the loaded topic from before that time; records
 * below `until_offset` (where the group stood when the replay began) were
 * counted before, so they add only to the rebuilt windows, not to older ones.
 */
export const replayFloorsTableSql = `CREATE TABLE IF NOT EXISTS kelt_replay_floors (
  group_id VARCHAR(255) NOT NULL,
  aggregate_table VARCHAR(64) NOT NULL,
  partition_id INT NOT NULL,
  until_offset BIGINT NOT NULL,
  floor_ms BIGINT NOT NULL,
  PRIMARY KEY (group_id, aggregate_table, partition_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

export interface ReplayFloor {
  untilOffset: bigint;
  floorMs: number;
}

/** Per aggregate table, per partition: the floor a replay left (none: count every window). */
export type ReplayFloors = Map<string, Map<number, ReplayFloor>>;

export async function readReplayFloors(pool: Pick<MySqlPool, 'query'>, groupId: string): Promise<ReplayFloors> {
  try {
    const [rows] = await pool.query('SELECT aggregate_table, partition_id, until_offset, floor_ms FROM kelt_replay_floors WHERE group_id = ?', [
      groupId,
    ]);
    const floors: ReplayFloors = new Map();
    for (const row of rows as Array<{ aggregate_table: string; partition_id: number; until_offset: number | string; floor_ms: number | string }>) {
      const table = floors.get(row.aggregate_table) ?? new Map<number, ReplayFloor>();
      table.set(row.partition_id, { untilOffset: BigInt(row.until_offset), floorMs: Number(row.floor_ms) });
      floors.set(row.aggregate_table, table);
    }
    return floors;
  } catch (error) {
    throw classifyMySqlError(error, 'reading the replay floors');
  }
}

/** Replaces a group's floors (in the replay's transaction). */
export async function writeReplayFloors(
  connection: Queryable,
  groupId: string,
  floors: ReadonlyArray<{ table: string; partition: number; untilOffset: string; floorMs: number }>,
): Promise<void> {
  await connection.query('DELETE FROM kelt_replay_floors WHERE group_id = ?', [groupId]);
  if (floors.length === 0) return;
  await connection.query('INSERT INTO kelt_replay_floors (group_id, aggregate_table, partition_id, until_offset, floor_ms) VALUES ?', [
    floors.map(({ table, partition, untilOffset, floorMs }) => [groupId, table, partition, untilOffset, floorMs]),
  ]);
}
