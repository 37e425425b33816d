import type { PoolConnection, ResultSetHeader } from 'mysql2/promise';
import { StaleBatchError } from '../errors.ts';
import type { MySqlPool } from './pool.ts';

type Queryable = Pick<PoolConnection, 'query'>;

/**
 * kelt_offsets: a consumer group's next offset per partition, written in the
 * transaction that wrote the rows it covers.
 */
export async function readOffsets(
  pool: Pick<MySqlPool, 'query'>,
  groupId: string,
  topic: string,
  partitions: readonly number[],
): Promise<Map<number, bigint>> {
  if (partitions.length === 0) return new Map();
  const [rows] = await pool.query(
    'SELECT partition_id, next_offset FROM kelt_offsets WHERE group_id = ? AND topic = ? AND partition_id IN (?)',
    [groupId, topic, partitions],
  );
  return new Map(
    (rows as Array<{ partition_id: number; next_offset: number | string }>).map((row) => [row.partition_id, BigInt(row.next_offset)]),
  );
}

/** Moves the position forward, never back (a replayed batch leaves it where it is). */
export async function writeOffsetForward(
  connection: Queryable,
  groupId: string,
  topic: string,
  partition: number,
  nextOffset: string,
): Promise<void> {
  await connection.query(
    `INSERT INTO kelt_offsets (group_id, topic, partition_id, next_offset, updated_at)
     VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3))
     ON DUPLICATE KEY UPDATE next_offset = GREATEST(next_offset, VALUES(next_offset)), updated_at = VALUES(updated_at)`,
    [groupId, topic, partition, nextOffset],
  );
}

/**
 * Moves the position from `from` (what this member read at assignment, or
 * absent) to `to`, and fails with StaleBatchError when the stored position is
 * not `from`: another member has moved it since, so this batch is a zombie's.
 */
export async function advanceOffset(
  connection: Queryable,
  groupId: string,
  topic: string,
  partition: number,
  from: bigint | undefined,
  to: string,
): Promise<void> {
  const stale = () => new StaleBatchError(`${topic}[${partition}]'s position in MySQL moved under this member`);
  if (from === undefined) {
    const [result] = await connection.query(
      `INSERT IGNORE INTO kelt_offsets (group_id, topic, partition_id, next_offset, updated_at)
       VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3))`,
      [groupId, topic, partition, to],
    );
    if ((result as ResultSetHeader).affectedRows !== 1) throw stale();
    return;
  }
  const [result] = await connection.query(
    `UPDATE kelt_offsets SET next_offset = ?, updated_at = UTC_TIMESTAMP(3)
     WHERE group_id = ? AND topic = ? AND partition_id = ? AND next_offset = ?`,
    [to, groupId, topic, partition, from.toString()],
  );
  if ((result as ResultSetHeader).affectedRows !== 1) throw stale();
}
